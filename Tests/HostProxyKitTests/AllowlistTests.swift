import Foundation
import Testing

@testable import HostProxyKit

@Suite struct AllowlistTests {
    let list: Allowlist

    init() throws {
        list = try Allowlist(
            parsing: """
                # providers
                api.openai.com:443
                API.Anthropic.com:443   # case does not matter

                *.googleapis.com:443
                \t*.x.ai:8443\t
                [2001:DB8::1]:443
                192.0.2.1:8080
                """)
    }

    @Test func exactEntriesMatchHostAndPort() {
        #expect(list.allows(host: "api.openai.com", port: 443))
        #expect(list.allows(host: "api.anthropic.com", port: 443))
        #expect(list.allows(host: "2001:db8::1", port: 443))
        #expect(list.allows(host: "192.0.2.1", port: 8080))
        #expect(list.entries.count == 6)
    }

    @Test func missesOnHostOrPort() {
        #expect(!list.allows(host: "api.openai.com", port: 80))
        #expect(!list.allows(host: "evil.openai.com", port: 443))
        #expect(!list.allows(host: "openai.com", port: 443))
        #expect(!list.allows(host: "api.openai.com.evil.example", port: 443))
        #expect(!list.allows(host: "192.0.2.1", port: 443))
    }

    @Test func wildcardMatchesOneOrMoreLabelsButNotTheBareSuffix() {
        #expect(list.allows(host: "generativelanguage.googleapis.com", port: 443))
        #expect(list.allows(host: "a.b.googleapis.com", port: 443))
        #expect(!list.allows(host: "googleapis.com", port: 443))
        #expect(!list.allows(host: "evilgoogleapis.com", port: 443))
        #expect(!list.allows(host: "generativelanguage.googleapis.com", port: 80))
        #expect(list.allows(host: "api.x.ai", port: 8443))
        #expect(!list.allows(host: "api.x.ai", port: 443))
    }

    @Test(arguments: [
        ("api.openai.com", "no port"),
        ("api.openai.com:", "empty port"),
        ("api.openai.com:99999", "port out of range"),
        ("api.openai.com:0", "port 0"),
        ("https://api.openai.com:443", "URL"),
        ("*:443", "bare star"),
        ("*.*.example.com:443", "two stars"),
        ("api.*.com:443", "inner star"),
        ("*.192.0.2.1:443", "wildcard IP"),
        ("bad_host.example:443", "underscore"),
        ("api.openai.com:443 extra", "trailing text"),
    ])
    func invalidLinesNameTheLine(line: String, why: String) {
        let text = "# header\napi.openai.com:443\n\(line)\n"
        #expect {
            try Allowlist(parsing: text)
        } throws: { error in
            guard let error = error as? AllowlistError, case .invalidLine(let number, let content, _) = error else {
                return false
            }
            return number == 3 && content == line && error.description.contains("line 3")
        }
    }

    @Test func emptyAndCommentOnlyFilesAllowNothing() throws {
        let empty = try Allowlist(parsing: "\n# nothing yet\n   \n")
        #expect(empty.entries.isEmpty)
        #expect(!empty.allows(host: "api.openai.com", port: 443))
    }

    @Test func overlongLinesAreRejected() {
        let text = String(repeating: "a", count: Allowlist.maximumLineBytes + 1)
        #expect(throws: AllowlistError.self) { try Allowlist(parsing: text) }
    }

    @Test func loadReportsAMissingFile() {
        #expect {
            try Allowlist.load(path: "/nonexistent/host-proxy.allowlist")
        } throws: { error in
            (error as? AllowlistError)?.description.contains("/nonexistent/host-proxy.allowlist") == true
        }
    }

    @Test func theExampleAllowlistInImageParses() throws {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
            let parent = directory.deletingLastPathComponent()
            try #require(parent.path != directory.path, "no Package.swift above \(#filePath)")
            directory = parent
        }
        let example = try Allowlist.load(path: directory.appendingPathComponent("image/host-proxy.allowlist").path)
        #expect(example.allows(host: "api.openai.com", port: 443))
        #expect(!example.allows(host: "169.254.169.254", port: 80))
    }
}
