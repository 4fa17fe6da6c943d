import Foundation
import Orbit

/// What a replay did, as a table for people and as JSON for machines.
struct ReplaySummary {
    struct Rejection: Codable {
        var file: String
        var line: Int
        var reason: String
    }

    var read = 0
    var applied = 0
    var duplicates = 0
    var rejected = 0
    /// The first few rejections, with file and line.
    var rejections: [Rejection] = []
    var lapses = 0
    var pointsIssued: Int64 = 0
    var pointsSpent: Int64 = 0
    var pointsExpired: Int64 = 0
    var messagesQueued = 0
    var tiers: [String: Int] = [:]
    var segments: [String: Int] = [:]
    var effectsPerRule: [String: [String: Int]] = [:]
    var elapsed: Duration = .zero
    var endTime: Instant?

    /// The process's peak resident memory so far, in bytes.
    var peakMemoryBytes: Int {
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        return usage.ru_maxrss * 1024
    }

    static let rejectionsShown = 10

    mutating func reject(file: String, line: Int, reason: String) {
        rejected += 1
        if rejections.count < Self.rejectionsShown { rejections.append(Rejection(file: file, line: line, reason: reason)) }
    }

    var seconds: Double {
        let (whole, attoseconds) = elapsed.components
        return Double(whole) + Double(attoseconds) / 1e18
    }

    var eventsPerSecond: Int { seconds > 0 ? Int((Double(read) / seconds).rounded()) : 0 }

    var text: String {
        var lines: [String] = []
        lines.append("events      \(read) read, \(applied) applied, \(duplicates) duplicates, \(rejected) rejected")
        for rejection in rejections { lines.append("  rejected  \(rejection.file):\(rejection.line): \(rejection.reason)") }
        if rejected > rejections.count { lines.append("  …and \(rejected - rejections.count) more") }
        lines.append("lapses      \(lapses) (expiries and inactivity)")
        lines.append("points      \(pointsIssued) issued, \(pointsSpent) spent, \(pointsExpired) expired")
        lines.append("messages    \(messagesQueued) queued")
        lines.append("tiers       " + Self.counts(tiers) + "  (all customers)")
        lines.append("segments    " + Self.counts(segments) + "  (all customers, at the last event)")
        lines.append("effects per rule:")
        for rule in effectsPerRule.keys.sorted() {
            lines.append("  \(rule): " + Self.counts(effectsPerRule[rule] ?? [:]))
        }
        lines.append(
            String(format: "elapsed     %.2f s, %d events/s, peak memory %d MiB", seconds, eventsPerSecond,
                   peakMemoryBytes >> 20))
        return lines.joined(separator: "\n")
    }

    private static func counts(_ counts: [String: Int]) -> String {
        counts.isEmpty ? "-" : counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }

    var json: String {
        let object: [String: Any] = [
            "read": read, "applied": applied, "duplicates": duplicates, "rejected": rejected,
            "rejections": rejections.map { ["file": $0.file, "line": $0.line, "reason": $0.reason] },
            "lapses": lapses, "points_issued": pointsIssued, "points_spent": pointsSpent,
            "points_expired": pointsExpired, "messages_queued": messagesQueued, "tiers": tiers, "segments": segments,
            "effects_per_rule": effectsPerRule, "elapsed_seconds": seconds, "events_per_second": eventsPerSecond,
            "peak_memory_bytes": peakMemoryBytes,
        ]
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// A progress bar on a terminal, plain lines otherwise (both on standard error).
struct Progress {
    let enabled: Bool
    let isTerminal = isatty(STDERR_FILENO) != 0
    /// Plain lines are written each time the count passes a multiple of this, whatever the batch size.
    static let lineInterval = 10_000
    private var linesWritten = 0

    init(enabled: Bool) { self.enabled = enabled }

    mutating func report(_ events: Int, elapsed: Duration) {
        guard enabled else { return }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = seconds > 0 ? Int(Double(events) / seconds) : 0
        if isTerminal {
            let width = min(40, events / 2_000)
            let bar = String(repeating: "=", count: width) + ">"
            FileHandle.standardError.write(Data("\r\(bar) \(events) events, \(rate)/s".utf8))
        } else if events / Self.lineInterval > linesWritten {
            linesWritten = events / Self.lineInterval
            FileHandle.standardError.write(Data("replay: \(events) events read, \(rate)/s\n".utf8))
        }
    }

    func done() {
        if enabled, isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
