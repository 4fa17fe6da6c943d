// The semantics of string.find, string.match, string.gmatch and string.gsub (Lua 5.4.4) on top of
// `LuaPatternMatcher`. Subjects, patterns and replacements are raw bytes (`[UInt8]`, any byte including NUL);
// `luaFind` and `luaMatch` also accept `UnsafeBufferPointer<UInt8>` so a caller can match a Lua string in place.
// Substring captures are 0-based half-open byte ranges into the subject; find's start/end and position captures are
// Lua's 1-based integers.

/// Lua 5.4's `posrelatI`: turns a 1-based, possibly negative `init` argument into a 1-based position
/// (0 → 1, negative counts from the end, before the start clips to 1; may exceed `length + 1`).
func luaPositionRelative(_ position: Int, length: Int) -> Int {
    if position > 0 {
        return position
    }
    if position == 0 || position < -length {
        return 1
    }
    return length + position + 1
}

/// Whether `pattern` has none of Lua's special characters `^$*+?.([%-` (so `string.find` may search it plainly).
func luaPatternHasNoSpecials(_ pattern: UnsafeBufferPointer<UInt8>) -> Bool {
    for byte in pattern {
        switch byte {
        case UInt8(ascii: "^"), UInt8(ascii: "$"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"),
            UInt8(ascii: "."), UInt8(ascii: "("), UInt8(ascii: "["), UInt8(ascii: "%"), UInt8(ascii: "-"):
            return false
        default:
            continue
        }
    }
    return true
}

/// Lua's `lmemfind`: the 0-based offset of the first occurrence of `needle` in `haystack` at or after `from`, or nil.
/// Costs one step per candidate position plus the bytes compared at candidates whose first byte matches.
private func plainFind(
    _ haystack: UnsafeBufferPointer<UInt8>,
    from: Int,
    _ needle: UnsafeBufferPointer<UInt8>,
    budget: inout LuaPatternBudget
) throws -> Int? {
    let needleCount = needle.count
    if needleCount == 0 {
        return from
    }
    if needleCount > haystack.count - from {
        return nil
    }
    let first = needle[0]
    let last = haystack.count - needleCount
    var steps = budget.remaining
    defer { budget.remaining = steps }
    var candidate = from
    while candidate <= last {
        if steps <= 0 {
            throw LuaPatternBudgetExceeded()
        }
        steps -= 1
        if haystack[candidate] == first {
            if steps < needleCount - 1 {
                steps = 0
                throw LuaPatternBudgetExceeded()
            }
            steps -= needleCount - 1
            var offset = 1
            while offset < needleCount && haystack[candidate + offset] == needle[offset] {
                offset += 1
            }
            if offset == needleCount {
                return candidate
            }
        }
        candidate += 1
    }
    return nil
}

/// Lua's `str_find_aux`: the shared body of find (`find` true) and match. Returns the 0-based match range and the
/// captures as find (`find` true: captures only) or match (whole match when there are none) pushes them.
private func findAux(
    subject: UnsafeBufferPointer<UInt8>,
    pattern: UnsafeBufferPointer<UInt8>,
    initial: Int,
    find: Bool,
    plain: Bool,
    budget: inout LuaPatternBudget
) throws -> (range: Range<Int>, captures: [LuaPatternCapture])? {
    let length = subject.count
    let start = luaPositionRelative(initial, length: length) - 1
    if start > length {
        return nil
    }
    if find && (plain || luaPatternHasNoSpecials(pattern)) {
        guard let found = try plainFind(subject, from: start, pattern, budget: &budget) else {
            return nil
        }
        return (found..<(found + pattern.count), [])
    }
    let anchor = pattern.first == UInt8(ascii: "^")
    let patternStart = anchor ? 1 : 0
    var matcher = LuaPatternMatcher(subject: subject, pattern: pattern, steps: budget.remaining)
    defer { budget.remaining = matcher.steps }
    var s = start
    while true {
        matcher.reset()
        if let end = try matcher.match(s, patternStart) {
            let captures = try matcher.captures(wholeMatch: find ? nil : s..<end)
            return (s..<end, captures)
        }
        if anchor || s >= length {
            return nil
        }
        s += 1
    }
}

/// Lua's `string.find(subject, pattern, initial, plain)` on bytes in place. `initial` is Lua's 1-based init (negative
/// counts from the end; past `count + 1` finds nothing). A plain search happens when `plain` is true or the pattern
/// has no special characters. Returns Lua's 1-based inclusive `start`/`end` and the pattern's captures (none for a
/// pattern without captures), or nil when there is no match.
func luaFind(
    subject: UnsafeBufferPointer<UInt8>,
    pattern: UnsafeBufferPointer<UInt8>,
    initial: Int = 1,
    plain: Bool = false,
    budget: inout LuaPatternBudget
) throws -> (start: Int, end: Int, captures: [LuaPatternCapture])? {
    guard
        let found = try findAux(
            subject: subject, pattern: pattern, initial: initial, find: true, plain: plain, budget: &budget)
    else {
        return nil
    }
    return (found.range.lowerBound + 1, found.range.upperBound, found.captures)
}

/// Lua's `string.find(subject, pattern, initial, plain)`; see the `UnsafeBufferPointer` variant.
func luaFind(
    subject: [UInt8],
    pattern: [UInt8],
    initial: Int = 1,
    plain: Bool = false,
    budget: inout LuaPatternBudget
) throws -> (start: Int, end: Int, captures: [LuaPatternCapture])? {
    try subject.withUnsafeBufferPointer { subjectBuffer in
        try pattern.withUnsafeBufferPointer { patternBuffer in
            try luaFind(
                subject: subjectBuffer, pattern: patternBuffer, initial: initial, plain: plain, budget: &budget)
        }
    }
}

/// Lua's `string.match(subject, pattern, initial)` on bytes in place: the captures of the first match, or the whole
/// match as the only capture when the pattern has none; nil when there is no match.
func luaMatch(
    subject: UnsafeBufferPointer<UInt8>,
    pattern: UnsafeBufferPointer<UInt8>,
    initial: Int = 1,
    budget: inout LuaPatternBudget
) throws -> [LuaPatternCapture]? {
    try findAux(subject: subject, pattern: pattern, initial: initial, find: false, plain: false, budget: &budget)?
        .captures
}

/// Lua's `string.match(subject, pattern, initial)`; see the `UnsafeBufferPointer` variant.
func luaMatch(
    subject: [UInt8],
    pattern: [UInt8],
    initial: Int = 1,
    budget: inout LuaPatternBudget
) throws -> [LuaPatternCapture]? {
    try subject.withUnsafeBufferPointer { subjectBuffer in
        try pattern.withUnsafeBufferPointer { patternBuffer in
            try luaMatch(subject: subjectBuffer, pattern: patternBuffer, initial: initial, budget: &budget)
        }
    }
}

/// Lua 5.4's `string.gmatch(subject, pattern, initial)` as an iterator. A leading `^` is an ordinary character here
/// (as in Lua 5.4), and a match may not end where the previous one ended (5.4's `lastmatch` rule), so an empty match
/// right after a match is skipped.
struct LuaGmatchIterator {
    /// The subject bytes.
    let subject: [UInt8]
    /// The pattern bytes.
    let pattern: [UInt8]
    /// Where the next search starts (0-based; may be `count + 1`, which finds nothing).
    private var position: Int
    /// Where the last match ended, or nil before the first match.
    private var lastMatch: Int?

    /// Creates the iterator; `initial` is Lua's 1-based init (negative counts from the end).
    init(subject: [UInt8], pattern: [UInt8], initial: Int = 1) {
        self.subject = subject
        self.pattern = pattern
        let start = luaPositionRelative(initial, length: subject.count) - 1
        position = min(start, subject.count + 1)
        lastMatch = nil
    }

    /// The next match's captures (the whole match alone when the pattern has none), or nil when there are no more.
    mutating func next(budget: inout LuaPatternBudget) throws -> [LuaPatternCapture]? {
        let start = position
        let previousEnd = lastMatch ?? -1
        let found: (end: Int, captures: [LuaPatternCapture])? = try subject.withUnsafeBufferPointer { subjectBuffer in
            try pattern.withUnsafeBufferPointer { patternBuffer in
                var matcher = LuaPatternMatcher(subject: subjectBuffer, pattern: patternBuffer, steps: budget.remaining)
                defer { budget.remaining = matcher.steps }
                var s = start
                while s <= subjectBuffer.count {
                    matcher.reset()
                    if let end = try matcher.match(s, 0), end != previousEnd {
                        return (end, try matcher.captures(wholeMatch: s..<end))
                    }
                    s += 1
                }
                return nil
            }
        }
        guard let found else {
            return nil
        }
        position = found.end
        lastMatch = found.end
        return found.captures
    }
}

/// Lua 5.4's `string.gsub` as a step-by-step iterator, for callers whose replacement runs code that itself matches
/// patterns against the same budget (``luaGsub(subject:pattern:maxReplacements:budget:replace:)`` holds the budget
/// in-out while its closure runs). Call ``next(budget:)`` until nil, answering each match with
/// ``replaceCurrentMatch(with:)`` (not answering keeps the original text), then take ``finish()``.
struct LuaGsubIterator {
    /// The subject bytes.
    let subject: [UInt8]
    /// The pattern bytes (including any leading `^`).
    let pattern: [UInt8]
    /// The most replacements to make.
    private let maxReplacements: Int
    /// Whether the pattern starts with `^` (one match attempt, at the start only).
    private let anchor: Bool
    /// Where matching resumes (0-based).
    private var source = 0
    /// Where the last match ended, or -1.
    private var lastMatch = -1
    /// Matches found so far.
    private var count = 0
    /// Whether the scan has ended.
    private var done = false
    /// The current match not yet answered.
    private var pending: Range<Int>?
    /// The result built so far.
    private var output: [UInt8] = []

    /// Creates the iterator; `maxReplacements` is Lua's 4th argument (nil: no limit; zero or negative: none).
    init(subject: [UInt8], pattern: [UInt8], maxReplacements: Int? = nil) {
        self.subject = subject
        self.pattern = pattern
        self.maxReplacements = maxReplacements ?? (subject.count + 1)
        anchor = pattern.first == UInt8(ascii: "^")
    }

    /// The next match (its 0-based range and its captures, empty when the pattern has none), or nil at the end.
    mutating func next(
        budget: inout LuaPatternBudget
    ) throws -> (wholeMatch: Range<Int>, captures: [LuaPatternCapture])? {
        if let pending {
            output.append(contentsOf: subject[pending])
            self.pending = nil
        }
        if done {
            return nil
        }
        var source = self.source
        var output = self.output
        self.output = []
        let previousEnd = lastMatch
        let count = self.count
        let maxReplacements = self.maxReplacements
        let anchor = self.anchor
        defer {
            self.source = source
            self.output = output
        }
        let found: (range: Range<Int>, captures: [LuaPatternCapture])? =
            try subject.withUnsafeBufferPointer { subjectBuffer in
                try pattern.withUnsafeBufferPointer { patternBuffer in
                    var matcher = LuaPatternMatcher(
                        subject: subjectBuffer, pattern: patternBuffer, steps: budget.remaining)
                    defer { budget.remaining = matcher.steps }
                    let patternStart = anchor ? 1 : 0
                    while count < maxReplacements {
                        matcher.reset()
                        if let end = try matcher.match(source, patternStart), end != previousEnd {
                            let range = source..<end
                            let captures = try matcher.captures(wholeMatch: nil)
                            source = end
                            return (range, captures)
                        } else if source < subjectBuffer.count {
                            output.append(subjectBuffer[source])
                            source += 1
                        } else {
                            break
                        }
                        if anchor {
                            break
                        }
                    }
                    return nil
                }
            }
        guard let found else {
            done = true
            return nil
        }
        self.count += 1
        lastMatch = found.range.upperBound
        pending = found.range
        if anchor {
            done = true
        }
        return (found.range, found.captures)
    }

    /// Answers the current match: `replacement` replaces it, nil keeps the original text.
    mutating func replaceCurrentMatch(with replacement: [UInt8]?) {
        guard let pending else {
            return
        }
        if let replacement {
            output.append(contentsOf: replacement)
        } else {
            output.append(contentsOf: subject[pending])
        }
        self.pending = nil
    }

    /// The resulting bytes and the number of matches (Lua's two results). Call after ``next(budget:)`` returned nil.
    mutating func finish() -> (result: [UInt8], count: Int) {
        if let pending {
            output.append(contentsOf: subject[pending])
            self.pending = nil
        }
        output.append(contentsOf: subject[source...])
        source = subject.count
        return (output, count)
    }
}

/// The shared loop of Lua's `str_gsub`: calls `body` for each match with the matcher (whose captures describe it),
/// the match's 0-based range and the output to append the replacement to.
private func gsubLoop(
    subject: [UInt8],
    pattern: [UInt8],
    maxReplacements: Int?,
    budget: inout LuaPatternBudget,
    body: (inout LuaPatternMatcher, Range<Int>, inout [UInt8]) throws -> Void
) throws -> (result: [UInt8], count: Int) {
    let limit = maxReplacements ?? (subject.count + 1)
    let anchor = pattern.first == UInt8(ascii: "^")
    return try subject.withUnsafeBufferPointer { subjectBuffer in
        try pattern.withUnsafeBufferPointer { patternBuffer in
            var matcher = LuaPatternMatcher(subject: subjectBuffer, pattern: patternBuffer, steps: budget.remaining)
            defer { budget.remaining = matcher.steps }
            let patternStart = anchor ? 1 : 0
            var output: [UInt8] = []
            var source = 0
            var lastMatch = -1
            var count = 0
            while count < limit {
                matcher.reset()
                if let end = try matcher.match(source, patternStart), end != lastMatch {
                    count += 1
                    try body(&matcher, source..<end, &output)
                    source = end
                    lastMatch = end
                } else if source < subjectBuffer.count {
                    output.append(subjectBuffer[source])
                    source += 1
                } else {
                    break
                }
                if anchor {
                    break
                }
            }
            output.append(contentsOf: subjectBuffer[source...])
            return (output, count)
        }
    }
}

/// Lua's `string.gsub(subject, pattern, repl, maxReplacements)` with `repl` a function or table: `replace` gets each
/// match's 0-based range and its captures (empty when the pattern has none; see ``luaGsubCallArguments`` and
/// ``luaGsubLookupValue``) and returns the replacement bytes, or nil to keep the original text (Lua's nil/false).
/// `maxReplacements` nil means no limit. An unfinished capture throws "unfinished capture" before `replace` runs.
/// The budget is held in-out while `replace` runs; use ``LuaGsubIterator`` when `replace` matches patterns itself.
/// Returns the new bytes and the number of matches.
func luaGsub(
    subject: [UInt8],
    pattern: [UInt8],
    maxReplacements: Int? = nil,
    budget: inout LuaPatternBudget,
    replace: (_ wholeMatch: Range<Int>, _ captures: [LuaPatternCapture]) throws -> [UInt8]?
) throws -> (result: [UInt8], count: Int) {
    try gsubLoop(subject: subject, pattern: pattern, maxReplacements: maxReplacements, budget: &budget) {
        matcher, range, output in
        let captures = try matcher.captures(wholeMatch: nil)
        if let replacement = try replace(range, captures) {
            output.append(contentsOf: replacement)
        } else {
            output.append(contentsOf: matcher.subject[range])
        }
    }
}

/// Lua's `string.gsub(subject, pattern, repl, maxReplacements)` with `repl` a string (or number converted to one):
/// `%0` is the whole match, `%1`-`%9` captures, `%%` a percent sign. Exactly like Lua, a capture the replacement does
/// not use may be unfinished. Returns the new bytes and the number of matches.
func luaGsub(
    subject: [UInt8],
    pattern: [UInt8],
    maxReplacements: Int? = nil,
    budget: inout LuaPatternBudget,
    replacementString: [UInt8]
) throws -> (result: [UInt8], count: Int) {
    try gsubLoop(subject: subject, pattern: pattern, maxReplacements: maxReplacements, budget: &budget) {
        matcher, range, output in
        let current = matcher
        try appendExpandedReplacement(
            replacementString, subject: current.subject, wholeMatch: range, captureCount: current.level,
            capture: { try current.capture($0, wholeMatch: range) }, to: &output)
    }
}

/// Expands a replacement string for one match (Lua's `add_s`), given the subject bytes, the 0-based whole-match
/// range and the match's captures as `luaGsub`'s closure receives them (empty when the pattern has none).
/// Throws "invalid use of '%' in replacement string" and "invalid capture index %N" like Lua.
func luaExpandReplacement(
    _ replacement: [UInt8],
    subject: [UInt8],
    wholeMatch: Range<Int>,
    captures: [LuaPatternCapture]
) throws -> [UInt8] {
    var output: [UInt8] = []
    try subject.withUnsafeBufferPointer { subjectBuffer in
        try appendExpandedReplacement(
            replacement, subject: subjectBuffer, wholeMatch: wholeMatch, captureCount: captures.count,
            capture: { index in
                if index < captures.count {
                    return captures[index]
                }
                if index == 0 {
                    return .substring(wholeMatch)
                }
                throw LuaPatternError(message: "invalid capture index %\(index + 1)")
            }, to: &output)
    }
    return output
}

/// Lua's `add_s`: appends `replacement` with its `%` escapes expanded to `output`.
private func appendExpandedReplacement(
    _ replacement: [UInt8],
    subject: UnsafeBufferPointer<UInt8>,
    wholeMatch: Range<Int>,
    captureCount: Int,
    capture: (Int) throws -> LuaPatternCapture,
    to output: inout [UInt8]
) throws {
    var index = 0
    let count = replacement.count
    while index < count {
        let byte = replacement[index]
        index += 1
        if byte != UInt8(ascii: "%") {
            output.append(byte)
            continue
        }
        let next: UInt8 = index < count ? replacement[index] : 0
        index += 1
        if next == UInt8(ascii: "%") {
            output.append(next)
        } else if next == UInt8(ascii: "0") {
            output.append(contentsOf: subject[wholeMatch])
        } else if next >= UInt8(ascii: "1") && next <= UInt8(ascii: "9") {
            let captureIndex = Int(next - UInt8(ascii: "1"))
            let value: LuaPatternCapture
            if captureIndex >= captureCount {
                if captureIndex != 0 {
                    throw LuaPatternError(message: "invalid capture index %\(captureIndex + 1)")
                }
                value = .substring(wholeMatch)
            } else {
                value = try capture(captureIndex)
            }
            switch value {
            case .substring(let range):
                output.append(contentsOf: subject[range])
            case .position(let position):
                output.append(contentsOf: String(position).utf8)
            }
        } else {
            throw LuaPatternError(message: "invalid use of '%' in replacement string")
        }
    }
}

/// The values Lua passes to a function replacement: the captures, or the whole match when the pattern has none.
func luaGsubCallArguments(wholeMatch: Range<Int>, captures: [LuaPatternCapture]) -> [LuaPatternCapture] {
    captures.isEmpty ? [.substring(wholeMatch)] : captures
}

/// The key Lua looks up in a table replacement: the first capture, or the whole match when the pattern has none
/// (a position capture is an integer key).
func luaGsubLookupValue(wholeMatch: Range<Int>, captures: [LuaPatternCapture]) -> LuaPatternCapture {
    captures.first ?? .substring(wholeMatch)
}
