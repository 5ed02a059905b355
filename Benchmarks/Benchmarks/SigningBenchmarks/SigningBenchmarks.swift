import Benchmark
import GatewayCore
import OHTTP

/// The per-request signing path of the worker and key service, on a typical 2 KB chat request.
/// The RSA-PSS private-key operation is the bound; everything else should be small next to it.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .throughput, .mallocCountTotal], maxDuration: .seconds(3))

    let body = Array(typicalChatRequest.utf8)
    let key = try! InferenceSigningKey.generate()
    let output = OutputHash.text("Sure — here is a short answer with a little non-ASCII: naïve café ✓.")

    Benchmark("parse + canonicalize + keccak (2 KB chat)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try CanonicalRequest(kind: .chat, body: JSONParser().parse(body)).hash)
        }
    }

    Benchmark("keccak-256 (2 KB)") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(Keccak256.hash(body)) }
    }

    Benchmark("RSA-2048 PSS sign (the bound)") { benchmark in
        let message = Keccak256.hash(body)
        for _ in benchmark.scaledIterations { blackHole(try key.sign(messageHash: message)) }
    }

    Benchmark("full: parse + canonicalize + keccak + sign") { benchmark in
        for _ in benchmark.scaledIterations {
            let request = try CanonicalRequest(kind: .chat, body: JSONParser().parse(body))
            blackHole(try key.sign(requestHash: request.hash, outputHash: output, timestamp: 1_747_000_000))
        }
    }

    // What POST /v1/ohttp adds to the same request, per suite: the gateway's side (open the
    // request, seal a 1 KB answer; key-service and worker together) and the client's side
    // (seal the request, open the answer). scripts/bench compares them with the "full" line.
    let answer = [UInt8](repeating: 0x61, count: 1024)
    for (name, suite) in [("x25519", HPKESuite.x25519ChaCha20Poly1305), ("xwing", HPKESuite.xWingAES256GCM)] {
        let gateway = try! OHTTPGatewayKeys.generate(suites: [suite])
        let config = gateway.configs[0]
        Benchmark("OHTTP \(name): gateway open + seal answer") { benchmark in
            let sealed = try OHTTPClient.encapsulate(request: body, config: config).bytes
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                let opened = try gateway.decapsulate(sealed)
                blackHole(try opened.responseContext.sealResponse(answer))
            }
        }
        Benchmark("OHTTP \(name): client seal request + open answer") { benchmark in
            let opened = try gateway.decapsulate(try OHTTPClient.encapsulate(request: body, config: config).bytes)
            let answerWire = try opened.responseContext.sealResponse(answer)
            for _ in benchmark.scaledIterations {
                let request = try OHTTPClient.encapsulate(request: body, config: config)
                // The answer was sealed for another request; opening it costs the same and fails.
                blackHole(try? request.responseContext.openResponse(answerWire))
            }
        }
    }
}

/// About 2 KB: a system prompt, a short conversation with non-ASCII text, one tool.
let typicalChatRequest = #"""
{"model":"gpt-4.1","temperature":0.7,"max_tokens":512,"stream":true,
 "messages":[
  {"role":"system","content":"You are a careful assistant for a travel company. Answer briefly, cite prices in EUR, and never invent availability. If a tool can answer, call it."},
  {"role":"user","content":"Hi! I'd like to go from Zürich to Lisbon in early May, ideally on a Friday, with a window seat. What are my options? 🙂"},
  {"role":"assistant","content":null,"tool_calls":[{"id":"call_7f3a","type":"function","function":{"name":"search_flights","arguments":"{\"from\": \"ZRH\", \"to\": \"LIS\", \"date\": \"2026-05-01\", \"seat\": \"window\"}"}}]},
  {"role":"tool","tool_call_id":"call_7f3a","content":"[{\"flight\":\"LX2084\",\"dep\":\"07:10\",\"arr\":\"09:05\",\"price\":189.5},{\"flight\":\"TP935\",\"dep\":\"12:40\",\"arr\":\"14:35\",\"price\":142.0}]"},
  {"role":"assistant","content":"Two direct flights on Friday 1 May: LX2084 at 07:10 (€189.50) and TP935 at 12:40 (€142.00). Both have window seats left."},
  {"role":"user","content":"Great, the cheaper one please. Also, can you check hotels near Alfama for three nights — something quiet, under €120 a night, with breakfast included if possible?"}
 ],
 "tools":[{"type":"function","function":{"name":"search_hotels","description":"Search hotels by area and constraints","parameters":{"type":"object","properties":{"area":{"type":"string"},"nights":{"type":"integer","minimum":1,"maximum":30},"max_price":{"type":"number"},"breakfast":{"type":"boolean"},"quiet":{"type":"boolean"}},"required":["area","nights"]}}},
          {"type":"function","function":{"name":"search_flights","description":"Search direct flights","parameters":{"type":"object","properties":{"from":{"type":"string"},"to":{"type":"string"},"date":{"type":"string","format":"date"},"seat":{"type":"string","enum":["window","aisle","any"]}},"required":["from","to","date"]}}}],
 "tool_choice":"auto"}
"""#
