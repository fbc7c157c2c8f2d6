import Dispatch
import Foundation
import Synchronization

/// Two serial queues, one per core of the test machine.
private let simulationQueues = (0..<2).map { DispatchQueue(label: "palier.simulations.\($0)") }
private let nextQueue = Atomic<Int>(0)

/// Runs CPU-bound simulation work on dedicated serial queues (two, taken in turn), off Swift's
/// cooperative thread pool: hundreds of simulated neighbourhoods then queue there instead of
/// holding every pool thread, and tests that need the pool (actors, sockets) still get it.
public func onSimulationThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    let queue = simulationQueues[nextQueue.wrappingAdd(1, ordering: .relaxed).oldValue % simulationQueues.count]
    return try await withCheckedThrowingContinuation { continuation in
        queue.async {
            continuation.resume(with: Result { try body() })
        }
    }
}

/// Runs blocking work (waiting for a process, a script, a file) on a thread of its own, so that
/// it never holds one of the few threads of Swift's cooperative pool that actors and sockets
/// of the same test process need.
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.start()
    }
}
