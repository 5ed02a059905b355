/// The roles that may talk to the key service (ARCHITECTURE §5.2). Each role unlocks a fixed
/// set of operations; see `PeerPolicy.classes(allowedFor:)`.
public enum PeerClass: String, CaseIterable, Hashable, Sendable {
    case tlsFront
    case worker
    case supervisor
}

/// Who may call which key-service operation.
///
/// A peer is first mapped to its classes (by uid for Unix sockets; TCP and vsock peers get
/// `unidentifiedPeerClasses`, empty unless a dev setup on loopback opts in), then the operation
/// must be allowed for one of them. The operation table is fixed here, not configurable, because
/// it is the security contract: only workers sign and open OHTTP requests, only tls-front
/// registers its certificate, fetches attestation and forwards injections.
///
/// A refused request is answered with a `forbidden` error naming the peer and the missing
/// class, and the connection stays open: the caller learns exactly what is misconfigured
/// instead of seeing an unexplained disconnect and reconnecting forever.
public struct PeerPolicy: Sendable {
    public var classesByUID: [UInt32: Set<PeerClass>]
    public var unidentifiedPeerClasses: Set<PeerClass>

    public init(classesByUID: [UInt32: Set<PeerClass>], unidentifiedPeerClasses: Set<PeerClass> = []) {
        self.classesByUID = classesByUID
        self.unidentifiedPeerClasses = unidentifiedPeerClasses
    }

    public static func classes(allowedFor operation: KeyServiceOperation) -> Set<PeerClass> {
        switch operation {
        case .publicKey: [.tlsFront, .worker]
        case .signInference, .signRecord, .ohttpConfigs, .ohttpOpen, .providerSecrets: [.worker]
        case .attest, .injectSecrets, .registerTLSCertificate: [.tlsFront]
        case .health, .ready: Set(PeerClass.allCases)
        }
    }

    public func classes(of peer: PeerIdentity) -> Set<PeerClass> {
        switch peer {
        case .credentials(let credentials): classesByUID[credentials.uid] ?? []
        case .unidentified: unidentifiedPeerClasses
        }
    }

    public func authorize(_ peer: PeerIdentity, for operation: KeyServiceOperation) throws(KeyServiceError) {
        let held = classes(of: peer)
        guard !held.isEmpty else {
            throw KeyServiceError(.forbidden, "\(peer) is not allowed to use the key service")
        }
        let needed = Self.classes(allowedFor: operation)
        guard held.isDisjoint(with: needed) else { return }
        throw KeyServiceError(
            .forbidden,
            "\(peer) (classes: \(Self.names(held))) may not call \(operation); it needs one of \(Self.names(needed))"
        )
    }

    private static func names(_ classes: Set<PeerClass>) -> String {
        classes.map(\.rawValue).sorted().joined(separator: ", ")
    }
}
