#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// libFuzzer's entry point when the program brings its own `main` (compiler-rt's
/// `FuzzerInterface.h`). SwiftPM links every executable with `main` aliased to the module's
/// entry point, so the targets cannot use libFuzzer's `main` and start the driver themselves.
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

/// What every fuzz target shares: starting libFuzzer and failing loudly on a broken invariant.
public enum FuzzDriver {
    /// Runs libFuzzer with the process's arguments (`-max_total_time=…`, corpus directories, a
    /// crash file to replay) and exits with its status.
    public static func run(_ testOneInput: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> Never {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
    }

    /// The input as an array (libFuzzer passes a pointer that is only valid during the call).
    public static func bytes(_ data: UnsafePointer<UInt8>, _ size: Int) -> [UInt8] {
        Array(UnsafeBufferPointer(start: data, count: size))
    }

    /// An invariant of the code under test: when it does not hold, the input is a finding, so
    /// the process aborts and libFuzzer saves the input as a crash file.
    public static func require(
        _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
        file: StaticString = #fileID, line: UInt = #line
    ) {
        guard condition() else {
            fputs("INVARIANT BROKEN (\(file):\(line)): \(message())\n", stderr)
            abort()
        }
    }

    /// Cut points for feeding `bytes` in pieces, derived from `seed` so one input always splits
    /// the same way (libFuzzer needs determinism to minimize a finding).
    public static func splits(count: Int, seed: UInt8) -> [Range<Int>] {
        guard count > 0 else { return [] }
        var ranges: [Range<Int>] = []
        var state = UInt32(seed) &* 2_654_435_761 | 1
        var start = 0
        while start < count {
            state ^= state << 13
            state ^= state >> 17
            state ^= state << 5
            // Mostly tiny pieces (1-4 bytes) so boundaries land inside every field.
            let length = seed & 1 == 0 ? Int(state % 4) + 1 : Int(state % 64) + 1
            ranges.append(start..<min(count, start + length))
            start += length
        }
        return ranges
    }
}
