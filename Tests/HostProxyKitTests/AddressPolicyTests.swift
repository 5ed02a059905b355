import EnclaveIPC
import NIOCore
import Testing

@testable import HostProxyKit

@Suite struct AddressPolicyTests {
    static func category(_ text: String) throws -> AddressCategory? {
        let address = try SocketAddress(ipAddress: text, port: 443)
        guard let bytes = IPEndpointBytes(address)?.address else { return .reserved }
        return AddressCategory.of(bytes)
    }

    @Test(arguments: [
        ("127.0.0.1", AddressCategory.loopback), ("127.255.0.9", .loopback), ("::1", .loopback),
        ("10.0.0.5", .private), ("172.16.0.1", .private), ("172.31.255.255", .private),
        ("192.168.1.1", .private), ("100.64.0.1", .private), ("100.127.255.254", .private),
        ("fc00::1", .private), ("fd12:3456::1", .private),
        ("169.254.169.254", .metadata), ("fd00:ec2::254", .metadata),
        ("169.254.1.1", .linkLocal), ("fe80::1", .linkLocal), ("febf::1", .linkLocal),
        ("0.0.0.0", .unspecified), ("0.1.2.3", .unspecified), ("::", .unspecified),
        ("224.0.0.1", .multicast), ("239.255.255.255", .multicast), ("ff02::1", .multicast),
        ("255.255.255.255", .reserved), ("240.0.0.1", .reserved), ("198.18.0.1", .reserved),
        ("::ffff:127.0.0.1", .loopback), ("::ffff:10.0.0.5", .private), ("::ffff:169.254.169.254", .metadata),
        ("64:ff9b::a00:5", .private), ("::ffff:0.0.0.0", .unspecified),
    ])
    func forbiddenRangesAreClassified(address: String, expected: AddressCategory) throws {
        #expect(try Self.category(address) == expected)
    }

    @Test(arguments: [
        "8.8.8.8", "1.1.1.1", "172.15.255.255", "172.32.0.1", "100.63.255.255", "100.128.0.1",
        "169.253.255.255", "2606:4700::1111", "::ffff:8.8.8.8", "fec0::1",
    ])
    func publicAddressesPass(address: String) throws {
        #expect(try Self.category(address) == nil)
        #expect(AddressPolicy.publicOnly.refusal(for: try SocketAddress(ipAddress: address, port: 443)) == nil)
    }

    @Test func loopbackIsAllowedOnlyWhenAskedFor() throws {
        let local = try SocketAddress(ipAddress: "127.0.0.1", port: 80)
        let mapped = try SocketAddress(ipAddress: "::ffff:127.0.0.1", port: 80)
        #expect(AddressPolicy.publicOnly.refusal(for: local) == .loopback)
        let dev = AddressPolicy(allowLoopback: true)
        #expect(dev.refusal(for: local) == nil)
        #expect(dev.refusal(for: mapped) == nil)
        #expect(dev.refusal(for: try SocketAddress(ipAddress: "10.0.0.5", port: 80)) == .private)
    }

    @Test func metadataAndLinkLocalAreNeverAllowed() throws {
        let everything = AddressPolicy(allowLoopback: true, allowPrivate: true)
        #expect(everything.refusal(for: try SocketAddress(ipAddress: "169.254.169.254", port: 80)) == .metadata)
        #expect(everything.refusal(for: try SocketAddress(ipAddress: "fd00:ec2::254", port: 80)) == .metadata)
        #expect(everything.refusal(for: try SocketAddress(ipAddress: "fe80::1", port: 80)) == .linkLocal)
        #expect(everything.refusal(for: try SocketAddress(ipAddress: "10.0.0.5", port: 80)) == nil)
    }

    @Test func unixAddressesAreRefused() throws {
        let unix = try SocketAddress(unixDomainSocketPath: "/tmp/x.sock")
        #expect(AddressPolicy(allowLoopback: true).refusal(for: unix) == .reserved)
    }
}
