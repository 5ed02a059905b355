import Testing

@testable import EnclaveIPC

@Suite struct PrometheusMergeTests {
    static let worker = """
        # HELP requests_total Requests
        # TYPE requests_total counter
        requests_total{route="/v1/models",status="200"} 3
        # TYPE latency_seconds histogram
        latency_seconds_bucket{le="0.1"} 1
        latency_seconds_bucket{le="+Inf"} 2
        latency_seconds_sum 0.3
        latency_seconds_count 2
        # TYPE up gauge
        up{} 1

        """

    @Test func eachProcessIsLabelledAndEachFamilyListedOnceWithAllItsSamples() {
        let merged = PrometheusMerge.merge([
            .init(process: "worker-1", text: Self.worker),
            .init(process: "worker-2", text: Self.worker),
            .init(process: nil, text: "# TYPE host_total counter\nhost_total 7\n"),
        ])
        #expect(
            merged == """
                # HELP requests_total Requests
                # TYPE requests_total counter
                requests_total{process="worker-1",route="/v1/models",status="200"} 3
                requests_total{process="worker-2",route="/v1/models",status="200"} 3
                # TYPE latency_seconds histogram
                latency_seconds_bucket{process="worker-1",le="0.1"} 1
                latency_seconds_bucket{process="worker-1",le="+Inf"} 2
                latency_seconds_sum{process="worker-1"} 0.3
                latency_seconds_count{process="worker-1"} 2
                latency_seconds_bucket{process="worker-2",le="0.1"} 1
                latency_seconds_bucket{process="worker-2",le="+Inf"} 2
                latency_seconds_sum{process="worker-2"} 0.3
                latency_seconds_count{process="worker-2"} 2
                # TYPE up gauge
                up{process="worker-1"} 1
                up{process="worker-2"} 1
                # TYPE host_total counter
                host_total 7

                """
        )
    }

    @Test func labelValuesAreEscapedAndStrayCommentsDropped() {
        let merged = PrometheusMerge.merge([.init(process: #"odd"name\"#, text: "# a comment\nx 1\n")])
        #expect(merged == #"x{process="odd\"name\\"} 1"# + "\n")
    }
}
