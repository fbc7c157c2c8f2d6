import PalierCore
import Synchronization

/// A wall clock that only moves when a test says so.
public final class ManualClock: WallClock {
    private let millis: Mutex<UInt64>

    public init(_ start: UInt64 = Fixtures.epoch) { millis = Mutex(start) }

    public func nowMillis() -> UInt64 { millis.withLock { $0 } }

    public func advance(by delta: UInt64) { millis.withLock { $0 += delta } }

    public func set(_ value: UInt64) { millis.withLock { $0 = value } }
}
