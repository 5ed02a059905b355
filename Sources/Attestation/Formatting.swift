import Foundation

extension Date {
    /// `2026-02-07T09:54:16Z`: the one time format of every message and report here.
    var iso8601: String { formatted(.iso8601) }
}
