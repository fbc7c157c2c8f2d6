/// A source of wall-clock time in Unix milliseconds; tests and the simulator inject their own.
public protocol WallClock: Sendable {
    func nowMillis() -> UInt64
}
