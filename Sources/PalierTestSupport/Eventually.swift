/// Polls `condition` every 10 ms until it holds or `timeout` passes; returns the elapsed time,
/// or nil when it never held.
public func eventually(within timeout: Duration, _ condition: () async throws -> Bool) async throws -> Duration? {
    let start = ContinuousClock.now
    while ContinuousClock.now - start < timeout {
        if try await condition() { return ContinuousClock.now - start }
        try await Task.sleep(for: .milliseconds(10))
    }
    return nil
}
