import Dispatch
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
