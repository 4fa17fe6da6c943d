/// An error from Lua code or from the sandbox's limits, with where it happened.
///
/// `description` reads like a compiler diagnostic: `rules/vip.lua:3: attempt to index a nil value (local 'c')`.
public struct LuaError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is. Limits are distinct kinds, so the host can tell a broken rule from a hostile one.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String {
            case syntax, runtime, memoryLimit, instructionLimit, deadline, stackOverflow, sourceTooLarge, conversion
        }

        private let base: Base

        /// The chunk does not compile.
        public static let syntax = Kind(base: .syntax)
        /// Lua code raised an error (including errors raised by host functions).
        public static let runtime = Kind(base: .runtime)
        /// The state's memory cap was reached.
        public static let memoryLimit = Kind(base: .memoryLimit)
        /// The call ran out of its instruction budget.
        public static let instructionLimit = Kind(base: .instructionLimit)
        /// The call ran past its deadline.
        public static let deadline = Kind(base: .deadline)
        /// Recursion went deeper than Lua's stack or C-stack limit.
        public static let stackOverflow = Kind(base: .stackOverflow)
        /// The source is larger than the sandbox accepts.
        public static let sourceTooLarge = Kind(base: .sourceTooLarge)
        /// A value could not cross the boundary (a function where data was expected, a cyclic table, …).
        public static let conversion = Kind(base: .conversion)

        /// Whether this kind is one of the sandbox's limits rather than an error in the code itself.
        public var isLimit: Bool {
            switch base {
            case .memoryLimit, .instructionLimit, .deadline, .stackOverflow, .sourceTooLarge: true
            case .syntax, .runtime, .conversion: false
            }
        }

        public var description: String { base.rawValue }
    }

    /// What kind of failure this is.
    public var kind: Kind
    /// The chunk (rule file) the error happened in, when known.
    public var chunk: String?
    /// The line in ``chunk``, when known.
    public var line: Int?
    /// The message without its `chunk:line:` prefix.
    public var message: String
    /// Lua's stack traceback at the point of the error, when one was taken.
    public var traceback: String?

    /// Creates an error; the runtime makes these, and hosts may make their own in the same shape.
    public init(kind: Kind, chunk: String? = nil, line: Int? = nil, message: String, traceback: String? = nil) {
        self.kind = kind
        self.chunk = chunk
        self.line = line
        self.message = message
        self.traceback = traceback
    }

    /// `chunk:line: message`, or as much of the location as is known.
    public var description: String {
        switch (chunk, line) {
        case (let chunk?, let line?): "\(chunk):\(line): \(message)"
        case (let chunk?, nil): "\(chunk): \(message)"
        default: message
        }
    }
}

/// A bad argument to a host function, described the way Lua describes its own:
/// `bad argument #2 to 'spent' (number expected, got string)`.
public struct LuaArgumentError: Error, Sendable, CustomStringConvertible {
    /// The function that was called.
    public var function: String
    /// The 1-based argument position.
    public var position: Int
    /// What was wrong with it.
    public var problem: String

    /// Creates an argument error, for host functions that validate beyond types.
    public init(function: String, position: Int, problem: String) {
        self.function = function
        self.position = position
        self.problem = problem
    }

    public var description: String { "bad argument #\(position) to '\(function)' (\(problem))" }
}
