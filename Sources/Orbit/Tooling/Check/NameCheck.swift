/// Finds names a rule file reads that do not exist: globals that are neither the rule API, the sandbox's libraries
/// nor defined in the file (`awrad(100)`), and fields of the customer or the cart that their views do not have
/// (`c.ordr_count`, `cart.subtotl`). Scope-aware: locals, parameters and loop variables shadow globals; `c` is the
/// customer and `cart` the cart where a form passes one.
struct NameCheck {
    /// Which parameter of a function is the customer, by form and by the field the function is given to (`""`: the
    /// function is the form's direct argument, as in `on "purchase" (function(e, c) … end)`). A new form adds a row.
    static let customerParameters: [String: [String: Int]] = [
        "segment": ["when": 1],
        "tiers": ["when": 1],
        "earn": ["points": 2, "when": 2],
        "on": ["": 2],
        "on inactive": ["": 1],
        "offer": ["eligible": 1, "discount": 2],
    ]

    /// Which parameter is the cart, as ``customerParameters`` says for the customer.
    static let cartParameters: [String: [String: Int]] = [
        "offer": ["eligible": 2, "discount": 1]
    ]

    /// What a name in scope stands for.
    private enum Binding {
        case other, customer, cart
    }

    let file: String
    let tokens: [LuaToken]
    let vocabulary: RuleVocabulary

    private enum Block {
        case function, loop, plain
    }

    private var scopes: [[String: Binding]] = [[:]]
    private var blocks: [Block] = []
    private var fileGlobals: Set<String> = []
    private var diagnostics: [Diagnostic] = []

    init(file: String, source: String, vocabulary: RuleVocabulary) {
        self.file = file
        self.tokens = LuaScanner.tokens(of: source)
        self.vocabulary = vocabulary
    }

    static func run(file: String, source: String, vocabulary: RuleVocabulary) -> [Diagnostic] {
        var check = NameCheck(file: file, source: source, vocabulary: vocabulary)
        check.collectFileGlobals()
        check.scan()
        return check.diagnostics
    }

    private func token(_ index: Int) -> LuaToken? { index >= 0 && index < tokens.count ? tokens[index] : nil }

    /// Globals the file assigns (`limit = eur(50)`, `function helper(c) … end`): reading them is fine.
    private mutating func collectFileGlobals() {
        for (index, token) in tokens.enumerated() where token.kind == .name {
            let previous = self.token(index - 1)
            if previous?.isSymbol(".") == true || previous?.isSymbol(":") == true
                || previous?.isKeyword("local") == true
            {
                continue
            }
            if self.token(index + 1)?.isSymbol("=") == true || previous?.isKeyword("function") == true {
                fileGlobals.insert(token.text)
            }
        }
    }

    private func resolve(_ name: String) -> Binding? {
        for scope in scopes.reversed() { if let binding = scope[name] { return binding } }
        return nil
    }

    private mutating func declare(_ name: String, as binding: Binding = .other) {
        scopes[scopes.count - 1][name] = binding
    }

    private mutating func open(_ block: Block) {
        blocks.append(block)
        scopes.append([:])
    }

    private mutating func close() {
        if !blocks.isEmpty { blocks.removeLast() }
        if scopes.count > 1 { scopes.removeLast() }
    }

    private mutating func scan() {
        var form: String?
        var braces: [String?] = []  // per open brace: the last key seen inside it
        var parentheses = 0
        var loopAwaitsDo = false
        var index = 0
        while index < tokens.count {
            let token = tokens[index]
            let previous = self.token(index - 1)
            switch token.kind {
            case .keyword:
                switch token.text {
                case "local":
                    if self.token(index + 1)?.isKeyword("function") == true, let name = self.token(index + 2),
                        name.kind == .name
                    {
                        declare(name.text)
                    } else {
                        var cursor = index + 1
                        while let name = self.token(cursor), name.kind == .name {
                            declare(name.text)
                            cursor += 1
                            if self.token(cursor)?.isSymbol("<") == true { cursor += 3 }  // <const>, <close>
                            guard self.token(cursor)?.isSymbol(",") == true else { break }
                            cursor += 1
                        }
                        index = cursor
                        continue
                    }
                case "function":
                    let direct = previous?.isSymbol("(") == true && parentheses == 1 && braces.isEmpty
                    let role = direct ? "" : (previous?.isSymbol("=") == true ? braces.last.flatMap { $0 } : nil)
                    var positions: [Int: Binding] = [:]
                    if let form, let role {
                        if let position = Self.customerParameters[form]?[role] { positions[position] = .customer }
                        if let position = Self.cartParameters[form]?[role] { positions[position] = .cart }
                    }
                    index = functionHeader(at: index, parameters: positions)
                    continue
                case "for":
                    open(.loop)
                    var cursor = index + 1
                    while let name = self.token(cursor), name.kind == .name {
                        declare(name.text)
                        cursor += 1
                        guard self.token(cursor)?.isSymbol(",") == true else { break }
                        cursor += 1
                    }
                    loopAwaitsDo = true
                    index = cursor
                    continue
                case "while":
                    open(.loop)
                    loopAwaitsDo = true
                case "do":
                    if loopAwaitsDo { loopAwaitsDo = false } else { open(.plain) }
                case "then", "repeat": open(.plain)
                case "elseif": close()
                case "else":
                    close()
                    open(.plain)
                case "end", "until": close()
                case "goto":
                    index += 2
                    continue
                default: break
                }
            case .name:
                if previous?.isSymbol(".") == true || previous?.isSymbol(":") == true {
                    checkMember(at: index)
                } else if braces.last != nil, self.token(index + 1)?.isSymbol("=") == true,
                    previous?.isSymbol("{") == true || previous?.isSymbol(",") == true
                        || previous?.isSymbol(";") == true
                {
                    braces[braces.count - 1] = token.text
                } else if previous?.isSymbol("::") == true {
                    break
                } else {
                    if braces.isEmpty && parentheses == 0 && scopes.count == 1 && Self.isForm(token.text) {
                        form = token.text
                        if token.text == "on", let type = self.token(index + 1), type.kind == .string,
                            type.text == "inactive"
                        {
                            form = "on inactive"
                        }
                    }
                    checkGlobal(token)
                }
            case .symbol:
                switch token.text {
                case "{": braces.append(nil)
                case "}": if !braces.isEmpty { braces.removeLast() }
                case "(": parentheses += 1
                case ")": parentheses = max(0, parentheses - 1)
                default: break
                }
            case .string, .number:
                break
            }
            index += 1
        }
    }

    private static func isForm(_ name: String) -> Bool {
        customerParameters.keys.contains(name)
    }

    /// `function name.field:method(a, b)` or `function(a, b)`: opens the function's scope and declares its
    /// parameters; returns the index after `)`.
    private mutating func functionHeader(at start: Int, parameters: [Int: Binding]) -> Int {
        var cursor = start + 1
        var isMethod = false
        if let name = token(cursor), name.kind == .name {
            if resolve(name.text) == nil && !fileGlobals.contains(name.text) { checkGlobal(name) }
            cursor += 1
            while let separator = token(cursor), separator.isSymbol(".") || separator.isSymbol(":") {
                isMethod = separator.isSymbol(":")
                cursor += 2
            }
        }
        open(.function)
        if isMethod { declare("self") }
        guard token(cursor)?.isSymbol("(") == true else { return cursor }
        cursor += 1
        var position = 1
        while let parameter = token(cursor), !parameter.isSymbol(")") {
            if parameter.kind == .name {
                declare(parameter.text, as: parameters[position] ?? .other)
                position += 1
            }
            cursor += 1
        }
        return cursor + 1
    }

    private mutating func checkGlobal(_ token: LuaToken) {
        let name = token.text
        guard resolve(name) == nil, !fileGlobals.contains(name), !vocabulary.globalNames.contains(name) else { return }
        let known = Array(vocabulary.globalNames) + Array(fileGlobals)
        diagnostics.append(
            Diagnostic(
                .error, file: file, line: token.line, column: token.column,
                "unknown name '\(name)'\(Suggestion.didYouMean(name, among: known))"))
    }

    /// `c.field` or `c:method` where `c` is a customer parameter; `cart.field` where `cart` is a cart parameter.
    private mutating func checkMember(at index: Int) {
        guard let object = token(index - 2), object.kind == .name, let binding = resolve(object.text) else { return }
        if let before = token(index - 3), before.isSymbol(".") || before.isSymbol(":") { return }
        let (what, members): (String, [String])
        switch binding {
        case .other: return
        case .customer: (what, members) = ("customer", vocabulary.customerMembers)
        case .cart: (what, members) = ("cart", vocabulary.cartMembers)
        }
        let member = tokens[index]
        guard !members.contains(member.text) else { return }
        diagnostics.append(
            Diagnostic(
                .error, file: file, line: member.line, column: member.column,
                "the \(what) has no field '\(member.text)'" + Suggestion.didYouMean(member.text, among: members)))
    }
}
