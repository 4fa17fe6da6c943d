// A pure-Swift re-implementation of Lua 5.4's pattern matcher (the engine behind string.find, string.match,
// string.gmatch and string.gsub), faithful to lstrlib.c of Lua 5.4.4 in behaviour and error messages, plus a step
// budget so that a catastrophic pattern fails fast instead of backtracking for minutes inside one C call.
//
// Positions: the matcher works on byte offsets into the subject, 0-based, half-open (`Range<Int>`), except position
// captures `()`, which carry Lua's 1-based position exactly as Lua would push it.

/// Why a pattern operation failed. `message` is exactly the text Lua 5.4.4 raises (without any position prefix), e.g.
/// "malformed pattern (missing ']')", "malformed pattern (ends with '%')", "invalid capture index %1",
/// "invalid use of '%' in replacement string", "pattern too complex".
struct LuaPatternError: Error, Equatable {
    /// Lua's error text.
    var message: String
}

/// Thrown when the step budget runs out before the pattern operation finished.
struct LuaPatternBudgetExceeded: Error, Equatable {}

/// One capture's value: a substring (a byte range into the subject, 0-based and half-open) or a position capture
/// `()` (Lua's 1-based position, which Lua hands to scripts as an integer).
enum LuaPatternCapture: Equatable {
    /// The bytes `range` of the subject.
    case substring(Range<Int>)
    /// A position capture: the 1-based Lua position where `()` matched.
    case position(Int)
}

/// The step budget shared by pattern operations. Every elementary matching step (each pattern item tried, each
/// single-character match attempt, each recursive match call and each backtrack; plus one step per byte compared by
/// back-references, scanned by `%b` or compared by a plain find, and a share of a long `[set]`'s length) costs 1;
/// when a step would take `remaining` below zero the operation throws ``LuaPatternBudgetExceeded`` and leaves
/// `remaining` at what was left (0 or nearly).
struct LuaPatternBudget {
    /// Steps still allowed.
    var remaining: Int
}

/// Lua's `LUA_MAXCAPTURES`: at most this many captures in one pattern ("too many captures").
let luaPatternMaxCaptures = 32

/// Lua's `MAXCCALLS`: the deepest the matcher may recurse ("pattern too complex").
let luaPatternMaxCalls = 200

/// The state of one pattern-matching operation over a subject and a pattern (Lua's `MatchState`).
///
/// Both buffers must stay valid for the matcher's whole life; it never copies them. `pattern` is the whole pattern
/// (including a leading `^` anchor, which callers skip by starting ``match(_:_:)`` at index 1). Reading the pattern at
/// its end yields 0, as C reads the terminating NUL.
struct LuaPatternMatcher {
    /// The length marker of a capture still open.
    private static let unfinished = -1
    /// The length marker of a position capture.
    private static let positionMarker = -2

    /// The subject bytes.
    let subject: UnsafeBufferPointer<UInt8>
    /// The pattern bytes.
    let pattern: UnsafeBufferPointer<UInt8>
    /// Captures opened so far (Lua's `level`).
    private(set) var level = 0
    /// Recursion left before "pattern too complex" (Lua's `matchdepth`).
    private var depth = luaPatternMaxCalls
    /// Where each capture starts (byte offset into the subject).
    private var captureStart: [Int]
    /// Each capture's length, or ``unfinished`` / ``positionMarker``.
    private var captureLength: [Int]
    /// Steps left in the budget.
    var steps: Int

    /// Creates a matcher over `subject` and `pattern` with `steps` budget steps.
    init(subject: UnsafeBufferPointer<UInt8>, pattern: UnsafeBufferPointer<UInt8>, steps: Int) {
        self.subject = subject
        self.pattern = pattern
        self.steps = steps
        captureStart = Array(repeating: 0, count: luaPatternMaxCaptures)
        captureLength = Array(repeating: 0, count: luaPatternMaxCaptures)
    }

    /// Forgets all captures and restores the recursion allowance before a new match attempt (Lua's `reprepstate`).
    mutating func reset() {
        level = 0
        depth = luaPatternMaxCalls
    }

    // MARK: - Budget

    /// Spends one step, throwing ``LuaPatternBudgetExceeded`` when none is left.
    @inline(__always)
    private mutating func step() throws {
        if steps <= 0 {
            throw LuaPatternBudgetExceeded()
        }
        steps &-= 1
    }

    /// Spends `count` steps at once, throwing ``LuaPatternBudgetExceeded`` (and spending all) when too few are left.
    @inline(__always)
    mutating func charge(_ count: Int) throws {
        if count > steps {
            steps = 0
            throw LuaPatternBudgetExceeded()
        }
        steps &-= count
    }

    // MARK: - Captures

    /// Capture `index` as Lua's `get_onecapture` yields it; `wholeMatch` stands for capture 0 when the pattern has
    /// none (nil where Lua passes no whole match, as `string.find` does).
    func capture(_ index: Int, wholeMatch: Range<Int>?) throws -> LuaPatternCapture {
        if index >= level {
            guard index == 0, let wholeMatch else {
                throw LuaPatternError(message: "invalid capture index %\(index + 1)")
            }
            return .substring(wholeMatch)
        }
        let length = captureLength[index]
        let start = captureStart[index]
        if length == Self.unfinished {
            throw LuaPatternError(message: "unfinished capture")
        }
        if length == Self.positionMarker {
            return .position(start + 1)
        }
        return .substring(start..<(start + length))
    }

    /// All captures as Lua's `push_captures` pushes them: the captures, or the whole match alone when the pattern has
    /// none and `wholeMatch` is given.
    func captures(wholeMatch: Range<Int>?) throws -> [LuaPatternCapture] {
        let count = (level == 0 && wholeMatch != nil) ? 1 : level
        var result: [LuaPatternCapture] = []
        result.reserveCapacity(count)
        for index in 0..<count {
            result.append(try capture(index, wholeMatch: wholeMatch))
        }
        return result
    }

    // MARK: - Pattern reading

    /// The pattern byte at `index`, or 0 past the end (C reads the terminating NUL there).
    @inline(__always)
    private func patternByte(_ index: Int) -> UInt8 {
        index < pattern.count ? pattern[index] : 0
    }

    /// The index just past the single-character class starting at `index` (Lua's `classEnd`).
    private func classEnd(_ index: Int) throws -> Int {
        var p = index
        let first = patternByte(p)
        p += 1
        if first == UInt8(ascii: "%") {
            if p >= pattern.count {
                throw LuaPatternError(message: "malformed pattern (ends with '%')")
            }
            return p + 1
        }
        if first == UInt8(ascii: "[") {
            if patternByte(p) == UInt8(ascii: "^") {
                p += 1
            }
            repeat {
                if p >= pattern.count {
                    throw LuaPatternError(message: "malformed pattern (missing ']')")
                }
                let byte = pattern[p]
                p += 1
                if byte == UInt8(ascii: "%") && p < pattern.count {
                    p += 1
                }
            } while patternByte(p) != UInt8(ascii: "]")
            return p + 1
        }
        return p
    }

    // MARK: - Single characters

    /// Whether byte `c` belongs to class letter `classByte` (`%a`, `%D`, ...; Lua 5.4 still accepts the deprecated
    /// `%z`; any other byte stands for itself), in the C locale.
    @inline(__always)
    private static func matchClass(_ c: UInt8, _ classByte: UInt8) -> Bool {
        let isUpperClass = classByte >= UInt8(ascii: "A") && classByte <= UInt8(ascii: "Z")
        let lowered = isUpperClass ? classByte | 0x20 : classByte
        let result: Bool
        switch lowered {
        case UInt8(ascii: "a"): result = isAlpha(c)
        case UInt8(ascii: "c"): result = c < 0x20 || c == 0x7F
        case UInt8(ascii: "d"): result = isDigit(c)
        case UInt8(ascii: "g"): result = c > 0x20 && c < 0x7F
        case UInt8(ascii: "l"): result = c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")
        case UInt8(ascii: "p"): result = c > 0x20 && c < 0x7F && !isAlpha(c) && !isDigit(c)
        case UInt8(ascii: "s"): result = c == 0x20 || (c >= 0x09 && c <= 0x0D)
        case UInt8(ascii: "u"): result = c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z")
        case UInt8(ascii: "w"): result = isAlpha(c) || isDigit(c)
        case UInt8(ascii: "x"):
            result = isDigit(c) || (c | 0x20 >= UInt8(ascii: "a") && c | 0x20 <= UInt8(ascii: "f"))
        case UInt8(ascii: "z"): result = c == 0  // deprecated, but Lua 5.4 still accepts it
        default: return classByte == c
        }
        return isUpperClass ? !result : result
    }

    /// Whether `c` is an ASCII letter.
    @inline(__always)
    private static func isAlpha(_ c: UInt8) -> Bool {
        let lowered = c | 0x20
        return lowered >= UInt8(ascii: "a") && lowered <= UInt8(ascii: "z")
    }

    /// Whether `c` is an ASCII digit.
    @inline(__always)
    private static func isDigit(_ c: UInt8) -> Bool {
        c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")
    }

    /// Whether `c` is in the set `[...]` whose `[` is at `open` and whose closing `]` is at `close`
    /// (Lua's `matchbracketclass`).
    private func matchBracketClass(_ c: UInt8, _ open: Int, _ close: Int) -> Bool {
        var p = open
        var found = true
        if patternByte(p + 1) == UInt8(ascii: "^") {
            found = false
            p += 1
        }
        p += 1
        while p < close {
            let byte = pattern[p]
            if byte == UInt8(ascii: "%") {
                p += 1
                if Self.matchClass(c, patternByte(p)) {
                    return found
                }
            } else if patternByte(p + 1) == UInt8(ascii: "-") && p + 2 < close {
                p += 2
                if byte <= c && c <= pattern[p] {
                    return found
                }
            } else if byte == c {
                return found
            }
            p += 1
        }
        return !found
    }

    /// Whether the subject byte at `s` matches the single-character class at `p` ending before `ep`
    /// (Lua's `singlematch`). Costs one step (more for a long set).
    @inline(__always)
    private mutating func singleMatch(_ s: Int, _ p: Int, _ ep: Int) throws -> Bool {
        try step()
        if s >= subject.count {
            return false
        }
        let c = subject[s]
        switch pattern[p] {
        case UInt8(ascii: "."):
            return true
        case UInt8(ascii: "%"):
            return Self.matchClass(c, patternByte(p + 1))
        case UInt8(ascii: "["):
            let extra = (ep - p) >> 3
            if extra > 0 {
                try charge(extra)
            }
            return matchBracketClass(c, p, ep - 1)
        default:
            return pattern[p] == c
        }
    }

    // MARK: - Matching

    /// Matches the pattern from index `patternIndex` against the subject from offset `start`; returns the offset
    /// just past the match, or nil (Lua's `match`).
    mutating func match(_ start: Int, _ patternIndex: Int) throws -> Int? {
        if depth == 0 {
            throw LuaPatternError(message: "pattern too complex")
        }
        depth -= 1
        defer { depth += 1 }
        var s = start
        var p = patternIndex
        let patternEnd = pattern.count
        while true {
            try step()
            if p >= patternEnd {
                return s
            }
            switch pattern[p] {
            case UInt8(ascii: "("):
                if patternByte(p + 1) == UInt8(ascii: ")") {
                    return try startCapture(s, p + 2, length: Self.positionMarker)
                }
                return try startCapture(s, p + 1, length: Self.unfinished)
            case UInt8(ascii: ")"):
                return try endCapture(s, p + 1)
            case UInt8(ascii: "$") where p + 1 == patternEnd:
                return s == subject.count ? s : nil
            case UInt8(ascii: "%"):
                let next = patternByte(p + 1)
                if next == UInt8(ascii: "b") {
                    guard let end = try matchBalance(s, p + 2) else {
                        return nil
                    }
                    s = end
                    p += 4
                    continue
                }
                if next == UInt8(ascii: "f") {
                    p += 2
                    if patternByte(p) != UInt8(ascii: "[") {
                        throw LuaPatternError(message: "missing '[' after '%f' in pattern")
                    }
                    let ep = try classEnd(p)
                    try charge((ep - p) >> 2)
                    let previous: UInt8 = s == 0 ? 0 : subject[s - 1]
                    let current: UInt8 = s < subject.count ? subject[s] : 0
                    if !matchBracketClass(previous, p, ep - 1) && matchBracketClass(current, p, ep - 1) {
                        p = ep
                        continue
                    }
                    return nil
                }
                if next >= UInt8(ascii: "0") && next <= UInt8(ascii: "9") {
                    guard let end = try matchCapture(s, next) else {
                        return nil
                    }
                    s = end
                    p += 2
                    continue
                }
            default:
                break
            }
            // A single-character class with an optional suffix.
            let ep = try classEnd(p)
            let suffix = patternByte(ep)
            let matched = try singleMatch(s, p, ep)
            if !matched {
                if suffix == UInt8(ascii: "*") || suffix == UInt8(ascii: "?") || suffix == UInt8(ascii: "-") {
                    p = ep + 1
                    continue
                }
                return nil
            }
            switch suffix {
            case UInt8(ascii: "?"):
                if let end = try match(s + 1, ep + 1) {
                    return end
                }
                p = ep + 1
            case UInt8(ascii: "+"):
                return try maxExpand(s + 1, p, ep)
            case UInt8(ascii: "*"):
                return try maxExpand(s, p, ep)
            case UInt8(ascii: "-"):
                return try minExpand(s, p, ep)
            default:
                s += 1
                p = ep
            }
        }
    }

    /// Greedy repetition of the class at `p` (Lua's `max_expand`).
    private mutating func maxExpand(_ s: Int, _ p: Int, _ ep: Int) throws -> Int? {
        var count = 0
        while try singleMatch(s + count, p, ep) {
            count += 1
        }
        while count >= 0 {
            if let end = try match(s + count, ep + 1) {
                return end
            }
            count -= 1
        }
        return nil
    }

    /// Lazy repetition of the class at `p` (Lua's `min_expand`).
    private mutating func minExpand(_ start: Int, _ p: Int, _ ep: Int) throws -> Int? {
        var s = start
        while true {
            if let end = try match(s, ep + 1) {
                return end
            }
            if try singleMatch(s, p, ep) {
                s += 1
            } else {
                return nil
            }
        }
    }

    /// Opens a capture at `s` and matches the rest (Lua's `start_capture`).
    private mutating func startCapture(_ s: Int, _ p: Int, length: Int) throws -> Int? {
        if level >= luaPatternMaxCaptures {
            throw LuaPatternError(message: "too many captures")
        }
        captureStart[level] = s
        captureLength[level] = length
        level += 1
        let end = try match(s, p)
        if end == nil {
            level -= 1
        }
        return end
    }

    /// Closes the innermost open capture at `s` and matches the rest (Lua's `end_capture`).
    private mutating func endCapture(_ s: Int, _ p: Int) throws -> Int? {
        var index = level - 1
        while index >= 0 && captureLength[index] != Self.unfinished {
            index -= 1
        }
        if index < 0 {
            throw LuaPatternError(message: "invalid pattern capture")
        }
        captureLength[index] = s - captureStart[index]
        let end = try match(s, p)
        if end == nil {
            captureLength[index] = Self.unfinished
        }
        return end
    }

    /// Matches a back-reference `%digit` at `s` (Lua's `match_capture`).
    private mutating func matchCapture(_ s: Int, _ digit: UInt8) throws -> Int? {
        let index = Int(digit) - Int(UInt8(ascii: "1"))
        if index < 0 || index >= level || captureLength[index] == Self.unfinished {
            throw LuaPatternError(message: "invalid capture index %\(index + 1)")
        }
        let length = captureLength[index]
        if length < 0 {
            // A position capture: Lua compares against (size_t)-2 bytes, which never fit.
            return nil
        }
        try charge(length)
        if subject.count - s < length {
            return nil
        }
        let from = captureStart[index]
        var offset = 0
        while offset < length {
            if subject[from + offset] != subject[s + offset] {
                return nil
            }
            offset += 1
        }
        return s + length
    }

    /// Matches `%bxy` (whose `x` is at `p`) at `s` (Lua's `matchbalance`). Costs one step per byte scanned.
    private mutating func matchBalance(_ s: Int, _ p: Int) throws -> Int? {
        if p + 1 >= pattern.count {
            throw LuaPatternError(message: "malformed pattern (missing arguments to '%b')")
        }
        if s >= subject.count || subject[s] != pattern[p] {
            return nil
        }
        let open = pattern[p]
        let close = pattern[p + 1]
        var depthCount = 1
        var index = s + 1
        let end = subject.count
        while index < end {
            let c = subject[index]
            if c == close {
                depthCount -= 1
                if depthCount == 0 {
                    try charge(index - s)
                    return index + 1
                }
            } else if c == open {
                depthCount += 1
            }
            index += 1
        }
        try charge(index - s)
        return nil
    }
}
