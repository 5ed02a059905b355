import Metrics

/// tls-front's request metrics: `tls_front_requests_total{route, status}` and
/// `tls_front_request_seconds{route}` (until the whole response is written, streams included).
/// Requests tls-front forwards count with `status="forwarded"`; the worker that answered counts
/// them by status (`worker_requests_total`).
///
/// The route label is one of the paths below or `other`: a raw path is client input, of
/// unbounded variety and possibly carrying content.
enum FrontMetrics {
    static let routes: Set<String> = [
        "/health", "/enclave/ready", "/enclave/attestation", "/v1/keys", "/v1/models", "/v1/chat/completions",
        "/v1/completions", "/v1/messages", "/v1/messages/count_tokens", "/signing-key", "/v1/ohttp/config",
        "/.well-known/ohttp-gateway",
    ]

    static func route(_ path: String) -> String { routes.contains(path) ? path : "other" }

    static func record(route: String, status: String, since started: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - started
        Counter(label: "tls_front_requests_total", dimensions: [("route", route), ("status", status)]).increment()
        Metrics.Timer(label: "tls_front_request_seconds", dimensions: [("route", route)]).recordNanoseconds(
            elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
        )
    }
}
