/// Merges Prometheus text expositions of several processes into one valid exposition: each
/// source's samples get a `process="NAME"` label, and samples of one metric family (from every
/// process) are listed together under one `# HELP` and `# TYPE`, as the format requires.
///
/// Only the subset of the text format that swift-prometheus and host-proxy emit is handled:
/// `# HELP`/`# TYPE` lines, then samples `name{labels} value` or `name value`. Other comment
/// lines are dropped.
public enum PrometheusMerge {
    public struct Source: Sendable {
        /// The `process` label value; nil leaves the samples as they are (host-proxy's own).
        public var process: String?
        public var text: String

        public init(process: String?, text: String) {
            self.process = process
            self.text = text
        }
    }

    public static func merge(_ sources: [Source]) -> String {
        var order: [String] = []
        var headers: [String: [String]] = [:]
        var samples: [String: [String]] = [:]
        for source in sources {
            var family = ""
            for raw in source.text.split(separator: "\n", omittingEmptySubsequences: true) {
                let line = String(raw)
                if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") {
                    let words = line.split(separator: " ", maxSplits: 3)
                    guard words.count >= 3 else { continue }
                    family = String(words[2])
                    if headers[family] == nil {
                        order.append(family)
                        headers[family] = []
                    }
                    let kind = words[1]
                    if !(headers[family] ?? []).contains(where: { $0.hasPrefix("# \(kind) ") }) { headers[family]?.append(line) }
                    continue
                }
                if line.hasPrefix("#") { continue }
                let name = String(line.prefix { $0 != "{" && $0 != " " })
                // Histogram and summary samples (_bucket, _sum, _count) belong to the family
                // declared above them; a sample without a declaration is its own family.
                let key = !family.isEmpty && name.hasPrefix(family) ? family : name
                if headers[key] == nil {
                    order.append(key)
                    headers[key] = []
                }
                samples[key, default: []].append(source.process.map { labelled(line, name: name, process: $0) } ?? line)
            }
        }
        var output = ""
        for family in order {
            for header in headers[family] ?? [] { output += header + "\n" }
            for sample in samples[family] ?? [] { output += sample + "\n" }
        }
        return output
    }

    /// `name{a="b"} 1` → `name{process="P",a="b"} 1`; `name 1` → `name{process="P"} 1`.
    static func labelled(_ line: String, name: String, process: String) -> String {
        let label = "process=\"\(escape(process))\""
        let rest = line.dropFirst(name.count)
        if rest.hasPrefix("{}") { return name + "{" + label + "}" + rest.dropFirst(2) }
        if rest.hasPrefix("{") { return name + "{" + label + "," + rest.dropFirst() }
        return name + "{" + label + "}" + rest
    }

    private static func escape(_ value: String) -> String {
        var escaped = ""
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
