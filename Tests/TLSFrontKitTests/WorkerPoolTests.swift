import EnclaveIPC
import Foundation
import Testing

@testable import TLSFrontKit

@Suite("worker pool")
struct WorkerPoolTests {
    let a = try! Endpoint(parsing: "unix:///tmp/a.sock")
    let b = try! Endpoint(parsing: "unix:///tmp/b.sock")
    let c = try! Endpoint(parsing: "unix:///tmp/c.sock")

    @Test func unknownHealthGetsNoTraffic() {
        let pool = WorkerPool(members: [a, b])
        #expect(pool.acquire() == nil)
        #expect(pool.readiness == (0, 2))
    }

    @Test func leastOutstandingWins() {
        let pool = WorkerPool(members: [a, b, c])
        for worker in [a, b, c] { pool.setHealthy(worker, true) }
        var counts: [Endpoint: Int] = [:]
        for _ in 0..<9 { counts[pool.acquire()!, default: 0] += 1 }
        #expect(counts == [a: 3, b: 3, c: 3])
        pool.release(b)
        pool.release(b)
        #expect(pool.acquire() == b)
        #expect(pool.acquire() == b)
    }

    @Test func unhealthyWorkersAreSkipped() {
        let pool = WorkerPool(members: [a, b])
        pool.setHealthy(a, true)
        pool.setHealthy(b, false)
        for _ in 0..<3 { #expect(pool.acquire() == a) }
        #expect(pool.readiness == (1, 2))
    }

    @Test func removedWorkerDrainsThenDisappears() {
        let pool = WorkerPool(members: [a])
        pool.setHealthy(a, true)
        #expect(pool.acquire() == a)
        let added = pool.replaceMembers(with: [b])
        #expect(added == [b])
        #expect(pool.members == [b])
        #expect(pool.tracked == [a, b])
        #expect(pool.outstandingOnRemoved == 1)
        #expect(pool.acquire() == nil, "b is not yet known to be healthy and a is no member")
        pool.release(a)
        #expect(pool.outstandingOnRemoved == 0)
        #expect(pool.tracked == [b])
    }

    @Test func readdingADrainingWorkerKeepsItsCount() {
        let pool = WorkerPool(members: [a])
        pool.setHealthy(a, true)
        _ = pool.acquire()
        pool.replaceMembers(with: [])
        #expect(pool.replaceMembers(with: [a]).isEmpty)
        #expect(pool.outstanding(on: a) == 1)
        #expect(pool.members == [a])
    }
}

@Suite("worker URLs")
struct WorkerAddressTests {
    @Test func unixSocketPathsArePercentEncodedAsTheHost() throws {
        let url = WorkerAddress.url(try Endpoint.unix(path: "/tmp/run dir/worker-1.sock"), "/v1/chat/completions?x=1")
        #expect(url == "http+unix://%2Ftmp%2Frun%20dir%2Fworker-1.sock/v1/chat/completions?x=1")
        // Against Foundation's encoder with RFC 3986's unreserved set, over every printable ASCII
        // byte and a two-byte UTF-8 character (a path is at most 107 bytes).
        var unreserved = CharacterSet(charactersIn: "-._~")
        unreserved.formUnion(CharacterSet(charactersIn: "a"..."z"))
        unreserved.formUnion(CharacterSet(charactersIn: "A"..."Z"))
        unreserved.formUnion(CharacterSet(charactersIn: "0"..."9"))
        let path = "/" + String(decoding: (32...126).map { UInt8($0) }, as: UTF8.self) + "é/s.sock"
        let expected = try #require(path.addingPercentEncoding(withAllowedCharacters: unreserved))
        #expect(WorkerAddress.url(try Endpoint.unix(path: path), "/") == "http+unix://" + expected + "/")
        #expect(WorkerAddress.url(try Endpoint.tcp(host: "127.0.0.1", port: 9), "/a") == "http://127.0.0.1:9/a")
        #expect(WorkerAddress.url(try Endpoint.tcp(host: "::1", port: 9), "/a") == "http://[::1]:9/a")
    }
}
