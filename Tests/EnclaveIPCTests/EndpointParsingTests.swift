import Foundation
import Testing

@testable import EnclaveIPC

@Suite("Endpoint parsing")
struct EndpointParsingTests {
    @Test(
        "valid endpoints parse to the expected address and canonical text",
        arguments: [
            ("vsock://3:8001", Endpoint.Address.vsock(cid: 3, port: 8001), "vsock://3:8001"),
            ("vsock://4294967295:443", .vsock(cid: UInt32.max, port: 443), "vsock://4294967295:443"),
            ("VSOCK://16:0", .vsock(cid: 16, port: 0), "vsock://16:0"),
            ("unix:///run/enclave/key-service.sock", .unix(path: "/run/enclave/key-service.sock"), "unix:///run/enclave/key-service.sock"),
            ("unix:///tmp/with space/a.sock", .unix(path: "/tmp/with space/a.sock"), "unix:///tmp/with space/a.sock"),
            ("tcp://127.0.0.1:8443", .tcp(host: "127.0.0.1", port: 8443), "tcp://127.0.0.1:8443"),
            ("tcp://0.0.0.0:0", .tcp(host: "0.0.0.0", port: 0), "tcp://0.0.0.0:0"),
            ("tcp://[::1]:65535", .tcp(host: "::1", port: 65535), "tcp://[::1]:65535"),
            ("tcp://[2001:DB8:0:0:0:0:0:1]:80", .tcp(host: "2001:db8::1", port: 80), "tcp://[2001:db8::1]:80"),
            ("tcp://LocalHost:1", .tcp(host: "localhost", port: 1), "tcp://localhost:1"),
            ("tcp://api.openai.com:443", .tcp(host: "api.openai.com", port: 443), "tcp://api.openai.com:443"),
        ]
    )
    func validEndpoints(text: String, address: Endpoint.Address, canonical: String) throws {
        let endpoint = try Endpoint(parsing: text)
        #expect(endpoint.address == address)
        #expect(endpoint.description == canonical)
        #expect(try Endpoint(parsing: endpoint.description) == endpoint)
    }

    @Test(
        "invalid endpoints fail with the precise error",
        arguments: [
            ("", EndpointError.empty),
            ("127.0.0.1:80", .missingScheme("127.0.0.1:80")),
            ("://x", .missingScheme("://x")),
            ("http://127.0.0.1:80", .unknownScheme("http")),
            ("tcp://127.0.0.1", .missingPort("tcp://127.0.0.1")),
            ("tcp://127.0.0.1:", .missingPort("tcp://127.0.0.1:")),
            ("tcp://:80", .missingHost("tcp://:80")),
            ("tcp://127.0.0.1:65536", .portOutOfRange("65536", maximum: 65535)),
            ("tcp://127.0.0.1:99999999999999999999999", .portOutOfRange("99999999999999999999999", maximum: 65535)),
            ("tcp://127.0.0.1:-1", .invalidPort("-1")),
            ("tcp://127.0.0.1:080", .invalidPort("080")),
            ("tcp://127.0.0.1:8a", .invalidPort("8a")),
            ("tcp://127.0.0.1:80/path", .unexpectedPath("tcp://127.0.0.1:80/path")),
            ("tcp://127.0.0.1:80?q", .unexpectedPath("tcp://127.0.0.1:80?q")),
            ("vsock://3", .missingPort("vsock://3")),
            ("vsock://:80", .missingCID("vsock://:80")),
            ("vsock://4294967296:80", .cidOutOfRange("4294967296")),
            ("vsock://x:80", .invalidCID("x")),
            ("vsock://3:4294967296", .portOutOfRange("4294967296", maximum: UInt32.max)),
            ("unix://relative/path.sock", .relativeUnixPath("relative/path.sock")),
            ("unix://", .relativeUnixPath("")),
            ("unix:///", .invalidUnixPath("/", reason: "it names a directory; add the socket file name")),
            ("unix:///run/dir/", .invalidUnixPath("/run/dir/", reason: "it names a directory; add the socket file name")),
        ]
    )
    func invalidEndpoints(text: String, expected: EndpointError) {
        #expect(throws: expected) { try Endpoint(parsing: text) }
    }

    @Test("malformed hosts are refused with a reason", arguments: [
        "tcp://256.1.1.1:80", "tcp://1.2.3:80", "tcp://01.2.3.4:80", "tcp://::1:80", "tcp://[::1:80",
        "tcp://[127.0.0.1]:80", "tcp://[fe80::1%eth0]:80", "tcp://[::g]:80", "tcp://-bad.example:80",
        "tcp://under_score.example:80", "tcp://a..b:80", "tcp://user@host:80", "tcp://[::1]x80",
    ])
    func invalidHosts(text: String) {
        #expect {
            try Endpoint(parsing: text)
        } throws: { error in
            guard case .invalidHost(_, let reason)? = error as? EndpointError else { return false }
            return !reason.isEmpty
        }
    }

    @Test("a hostname label longer than 63 bytes and a name longer than 253 bytes are refused")
    func hostnameLengthLimits() throws {
        let longLabel = String(repeating: "a", count: 64)
        #expect(throws: EndpointError.self) { try Endpoint(parsing: "tcp://\(longLabel).example:1") }
        let okLabel = String(repeating: "a", count: 63)
        #expect(try Endpoint(parsing: "tcp://\(okLabel).example:1").description == "tcp://\(okLabel).example:1")
        let longName = Array(repeating: String(repeating: "b", count: 50), count: 6).joined(separator: ".")
        #expect(longName.utf8.count > 253)
        #expect(throws: EndpointError.self) { try Endpoint(parsing: "tcp://\(longName):1") }
    }

    @Test("unix paths must fit sun_path (minus the NUL) and contain no NUL")
    func unixPathLimits() throws {
        let maximum = EndpointParser.maximumUnixPathBytes
        #if os(Linux)
        #expect(maximum == 107)
        #endif
        let fits = "/" + String(repeating: "p", count: maximum - 1)
        #expect(try Endpoint.unix(path: fits).address == .unix(path: fits))
        let tooLong = fits + "p"
        #expect(throws: EndpointError.unixPathTooLong(tooLong, bytes: maximum + 1, maximum: maximum)) {
            try Endpoint(parsing: "unix://" + tooLong)
        }
        #expect(throws: EndpointError.invalidUnixPath("/a\u{0}b", reason: "it contains a NUL byte")) {
            try Endpoint.unix(path: "/a\u{0}b")
        }
    }

    @Test("input longer than any endpoint is refused before parsing")
    func overlongInput() {
        let text = "tcp://" + String(repeating: "a", count: 600) + ":1"
        #expect(throws: EndpointError.tooLong(length: text.utf8.count, maximum: EndpointParser.maximumLength)) {
            try Endpoint(parsing: text)
        }
    }

    @Test("factories validate like the parser and canonicalize hosts")
    func factories() throws {
        #expect(try Endpoint.tcp(host: "::FFFF:127.0.0.1", port: 9).description == "tcp://[::ffff:127.0.0.1]:9")
        #expect(throws: EndpointError.self) { try Endpoint.tcp(host: "[::1]", port: 9) }
        #expect(throws: EndpointError.relativeUnixPath("x.sock")) { try Endpoint.unix(path: "x.sock") }
        #expect(Endpoint.vsock(cid: 3, port: 8001).description == "vsock://3:8001")
    }

    @Test("Codable uses the canonical string and reports parse errors")
    func codable() throws {
        let endpoints = [
            try Endpoint(parsing: "tcp://[::1]:80"),
            try Endpoint(parsing: "unix:///run/x.sock"),
            Endpoint.vsock(cid: 3, port: 1),
        ]
        let data = try JSONEncoder().encode(endpoints)
        #expect(String(decoding: data, as: UTF8.self) == #"["tcp:\/\/[::1]:80","unix:\/\/\/run\/x.sock","vsock:\/\/3:1"]"#)
        #expect(try JSONDecoder().decode([Endpoint].self, from: data) == endpoints)

        #expect {
            try JSONDecoder().decode([Endpoint].self, from: Data(#"["tcp://host"]"#.utf8))
        } throws: { error in
            guard case .dataCorrupted(let context)? = error as? DecodingError else { return false }
            return context.debugDescription.contains("has no port")
        }
    }

    @Test("every error message quotes the offending input")
    func errorMessages() {
        #expect(EndpointError.unknownScheme("http").description.contains("'http'"))
        #expect(EndpointError.portOutOfRange("70000", maximum: 65535).description.contains("65535"))
        #expect(EndpointError.relativeUnixPath("a.sock").description.contains("unix:///"))
        #expect(EndpointError.unixPathTooLong("/x", bytes: 200, maximum: 107).description.contains("107"))
    }
}
