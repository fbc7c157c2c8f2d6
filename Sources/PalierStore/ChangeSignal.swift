import Synchronization

/// Tells the parts of a running node that the store changed: every write transaction of this
/// process signals once committed, and the CLI's signal (another process) is passed on by the
/// feed's control socket. Each ``Waiter`` sleeps until the next signal or its own deadline, so
/// an idle node wakes only when there is something to do. Signals coalesce: a waiter that was
/// busy during several returns once.
public final class ChangeSignal: Sendable {
    private struct Slot {
        var pending = false
        var continuation: CheckedContinuation<Void, Never>?
    }
    private let slots = Mutex<[Int: Slot]>([:])
    private let next = Atomic<Int>(0)

    public init() {}

    /// A new subscriber; it has not missed anything yet.
    public func waiter() -> Waiter {
        let id = next.add(1, ordering: .relaxed).newValue
        slots.withLock { $0[id] = Slot() }
        return Waiter(signal: self, id: id)
    }

    /// The store changed.
    public func signal() {
        let waking = slots.withLock { slots in
            var waking: [CheckedContinuation<Void, Never>] = []
            for id in slots.keys {
                if let continuation = slots[id]!.continuation {
                    waking.append(continuation)
                    slots[id]!.continuation = nil
                } else {
                    slots[id]!.pending = true
                }
            }
            return waking
        }
        for continuation in waking { continuation.resume() }
    }

    fileprivate func nextSignal(_ id: Int) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = slots.withLock { slots -> Bool in
                    if slots[id]?.pending ?? true || Task.isCancelled {
                        slots[id]?.pending = false
                        return true
                    }
                    slots[id]!.continuation = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let continuation = slots.withLock { slots in
                defer { slots[id]?.continuation = nil }
                return slots[id]?.continuation
            }
            continuation?.resume()
        }
    }

    fileprivate func remove(_ id: Int) {
        let continuation = slots.withLock { $0.removeValue(forKey: id)?.continuation }
        continuation?.resume()
    }

    /// One subscriber of a ``ChangeSignal``.
    public final class Waiter: Sendable {
        private let signal: ChangeSignal
        private let id: Int

        fileprivate init(signal: ChangeSignal, id: Int) {
            self.signal = signal
            self.id = id
        }

        /// Returns at the first signal since the last return, or once `timeout` has passed, or
        /// when the task is cancelled. True when signalled.
        @discardableResult
        public func wait(upTo timeout: Duration) async -> Bool {
            await withTaskGroup(of: Bool.self) { group in
                group.addTask { [signal, id] in
                    await signal.nextSignal(id)
                    return true
                }
                group.addTask {
                    do { try await Task.sleep(for: timeout) } catch {}
                    return false
                }
                let first = await group.next() ?? false
                group.cancelAll()
                return first
            }
        }

        deinit { signal.remove(id) }
    }
}
