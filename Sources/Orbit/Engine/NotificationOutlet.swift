import Synchronization

/// Where the engine publishes its outbound notifications: an `AsyncStream` made when someone first asks for it.
///
/// Why: a bulk replay commits ~140,000 times; building a notification per point award, tier change and segment
/// change, and yielding each into a buffer nobody reads, was measurable work. Until the stream exists the engine
/// builds none (``isOpen`` is false); from then on every notification of a committed transaction is yielded, newest
/// 10,000 kept for a slow reader.
final class NotificationOutlet: Sendable {
    private typealias Channel = (
        stream: AsyncStream<EngineNotification>, continuation: AsyncStream<EngineNotification>.Continuation
    )
    private let state = Mutex<Channel?>(nil)
    /// Set once the stream exists: read for every commit, without the lock or a copy of the channel.
    private let opened = Atomic<Bool>(false)

    init() {}

    deinit { state.withLock { $0?.continuation.finish() } }

    /// The stream, made on first use; every later call returns the same one.
    var stream: AsyncStream<EngineNotification> {
        state.withLock { state in
            if let state { return state.stream }
            let made = AsyncStream.makeStream(of: EngineNotification.self, bufferingPolicy: .bufferingNewest(10_000))
            state = made
            opened.store(true, ordering: .releasing)
            return made.stream
        }
    }

    /// Whether anyone asked for the stream (so notifications are worth building).
    var isOpen: Bool { opened.load(ordering: .acquiring) }

    /// Yields `notifications` in order, when the stream exists.
    func publish(_ notifications: [EngineNotification]) {
        guard !notifications.isEmpty, let continuation = state.withLock({ $0?.continuation }) else { return }
        for notification in notifications { continuation.yield(notification) }
    }
}
