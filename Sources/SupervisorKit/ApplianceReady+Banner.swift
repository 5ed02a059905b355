import EnclaveIPC

extension ApplianceReady {
    /// The HTTPS URL clients use; for `tcp://` listeners the host as bound.
    public var url: String {
        switch listen.address {
        case .tcp(let host, let port): return host.contains(":") ? "https://[\(host)]:\(port)" : "https://\(host):\(port)"
        case .vsock(let cid, let port): return "vsock://\(cid):\(port) (reach it through host-proxy)"
        case .unix(let path): return "unix://\(path)"
        }
    }

    /// What a dev supervisor prints once ready: where to connect, the certificate to pin and a
    /// request to paste. `--cacert` trusts exactly the generated certificate (its SAN covers
    /// localhost and 127.0.0.1), so no `-k` is needed; the fingerprint is what
    /// `/enclave/attestation` binds, for checking that the certificate is the enclave's.
    private var attestHint: String {
        guard let devRootPath else { return "" }
        return "\nVerify the attestation:  gatewayctl attest --url \(url) --dev-root \(devRootPath)"
    }

    public func banner() -> String {
        let body = #"{"model":"local","messages":[{"role":"user","content":"Say hello"}]}"#
        return """
            enclave-gateway is ready
              URL:                      \(url)
              TLS certificate SHA-256:  \(certificateSHA256)
              certificate (PEM):        \(certificatePath)
              runtime directory:        \(runtimeDirectory)
              key-service pid:          \(keyServicePID)

            Try a chat completion with the built-in local model:
              curl --cacert \(certificatePath) \(url)/v1/chat/completions \\
                -H 'Content-Type: application/json' \\
                -d '\(body)'

            Check the certificate: openssl x509 -in \(certificatePath) -noout -fingerprint -sha256\(attestHint)
            Control the appliance: supervisor ctl status | rotate-workers | scale N | restart NAME | drain | shutdown
            """
    }
}
