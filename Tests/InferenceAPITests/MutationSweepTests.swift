import GatewayCore
import Testing

@testable import InferenceAPI

/// Never a crash, never an anonymous 400: every value at every path of a rich valid body is
/// replaced by every JSON type (and removed), and validation must either accept the result or
/// reject it naming a field.
@Suite struct MutationSweepTests {
    static let bodies: [(InferenceRequest.Route, String)] = [
        (
            .chatCompletions,
            #"""
            {"model":"gpt-4.1","stream":true,"stream_options":{"include_usage":true},"temperature":0.5,"top_p":1,"n":1,
             "max_tokens":10,"stop":["x"],"seed":1,"user":"u","reasoning_effort":"low","parallel_tool_calls":true,
             "tools":[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object"}}}],
             "tool_choice":{"type":"function","function":{"name":"f"}},
             "response_format":{"type":"json_schema","json_schema":{"name":"r","schema":{"type":"object"}}},
             "messages":[{"role":"developer","content":"be nice"},
               {"role":"user","content":[{"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"u","detail":"low"}}]},
               {"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},
               {"role":"tool","tool_call_id":"c","content":"ok"}]}
            """#
        ),
        (.completions, #"{"model":"gpt-4.1","prompt":["hi"],"max_tokens":5,"temperature":0.2,"stop":"x","stream":false}"#),
        (
            .messages,
            #"""
            {"model":"claude-x","max_tokens":2000,"system":[{"type":"text","text":"s"}],"temperature":0.5,
             "stop_sequences":["x"],"metadata":{"user_id":"u"},"thinking":{"type":"enabled","budget_tokens":1024},
             "tools":[{"name":"f","input_schema":{"type":"object"}}],"tool_choice":{"type":"tool","name":"f"},
             "messages":[{"role":"user","content":[{"type":"text","text":"hi"},
                 {"type":"image","source":{"type":"base64","media_type":"image/png","data":"AA"}}]},
               {"role":"assistant","content":[{"type":"text","text":"t"},{"type":"tool_use","id":"c","name":"f","input":{}}]},
               {"role":"user","content":[{"type":"tool_result","tool_use_id":"c","content":[{"type":"text","text":"r"}]}]}]}
            """#
        ),
    ]

    static let replacements: [JSONValue?] = [nil, .null, true, 0, -1, 2.5, "", "x", [], [1], [:], ["type": "x"]]

    @Test(arguments: 0..<bodies.count)
    func everyMutationIsAcceptedOrBlamesAField(_ which: Int) throws {
        let (route, text) = Self.bodies[which]
        let original = try Support.json(text)
        _ = try InferenceRequest(route: route, body: original)
        var tried = 0
        var rejected = 0
        for path in Self.paths(original) {
            for replacement in Self.replacements {
                let mutated = Self.replacing(original, at: path[...], with: replacement)
                tried += 1
                switch Result(catching: { () throws(InvalidRequest) in try InferenceRequest(route: route, body: mutated) }) {
                case .success: continue
                case .failure(let error):
                    rejected += 1
                    #expect(error.param?.isEmpty == false, "\(path) → \(String(describing: replacement)): \(error)")
                }
            }
        }
        // Both outcomes occur, so the sweep exercised acceptance and rejection paths.
        #expect(rejected > 0 && rejected < tried, "tried \(tried), rejected \(rejected)")
    }

    enum Step: Sendable {
        case key(String)
        case index(Int)
    }

    static func paths(_ value: JSONValue) -> [[Step]] {
        switch value {
        case .object(let object): object.members.flatMap { m in [[.key(m.key)]] + paths(m.value).map { [.key(m.key)] + $0 } }
        case .array(let items): items.indices.flatMap { i in [[.index(i)]] + paths(items[i]).map { [.index(i)] + $0 } }
        default: []
        }
    }

    /// `nil` removes the member (or array element).
    static func replacing(_ value: JSONValue, at path: ArraySlice<Step>, with replacement: JSONValue?) -> JSONValue {
        guard let step = path.first else { return replacement ?? .null }
        switch (value, step) {
        case (.object(var object), .key(let key)):
            object[key] = path.count == 1 ? replacement : object[key].map { replacing($0, at: path.dropFirst(), with: replacement) }
            return .object(object)
        case (.array(var items), .index(let i)):
            if path.count == 1, replacement == nil { items.remove(at: i) } else { items[i] = replacing(items[i], at: path.dropFirst(), with: replacement) }
            return .array(items)
        default: return value
        }
    }
}
