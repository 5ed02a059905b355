import NIOCore
import Testing

@testable import TLSFrontKit

#if canImport(Glibc)
import Glibc
#endif

/// How tls-front classifies a failed worker request decides whether the worker is blamed.
@Suite struct WorkerProxyErrorTests {
    @Test func runningOutOfDescriptorsIsTLSFrontsOwnLimitNotAGoneWorker() {
        // What socket(2) fails with at the limit (seen with 10,000 streams under a 20,000 limit).
        #expect(WorkerProxy.outOfDescriptors(IOError(errnoCode: EMFILE, reason: "socket(domain:type:protocolSubtype:)")))
        #expect(WorkerProxy.outOfDescriptors(IOError(errnoCode: ENFILE, reason: "socket(domain:type:protocolSubtype:)")))
        #expect(!WorkerProxy.outOfDescriptors(IOError(errnoCode: ECONNREFUSED, reason: "connect")))
        #expect(!WorkerProxy.outOfDescriptors(ChannelError.ioOnClosedChannel))
        // A refused connection still means the worker is gone.
        #expect(WorkerProxy.neverReachedWorker(IOError(errnoCode: ECONNREFUSED, reason: "connect")))
    }
}
