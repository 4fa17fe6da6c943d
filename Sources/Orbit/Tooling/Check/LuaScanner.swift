/// A Lua 5.4 tokenizer, enough for `orbit check` to find names and where they are: names, keywords, strings,
/// numbers and symbols with their line and column; comments and whitespace skipped. Lua itself checks the syntax.
struct LuaToken: Equatable {
    enum Kind: Equatable {
        case name, keyword, string, number, symbol
    }

    var kind: Kind
    /// The name, keyword or symbol as written; a string's contents (escapes left as written).
    var text: String
    var line: Int
    var column: Int

    func isSymbol(_ symbol: String) -> Bool { kind == .symbol && text == symbol }
    func isKeyword(_ keyword: String) -> Bool { kind == .keyword && text == keyword }
}

enum LuaScanner {
    static let keywords: Set<String> = [
        "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if", "in", "local", "nil",
        "not", "or", "repeat", "return", "then", "true", "until", "while",
    ]

    private static let symbols = ["...", "..", "==", "~=", "<=", ">=", "<<", ">>", "//", "::"]

    /// The tokens of `source`. Text it cannot read (an unfinished string) ends the scan; the syntax pass reports it.
    static func tokens(of source: String) -> [LuaToken] {
        let characters = Array(source)
        var tokens: [LuaToken] = []
        var index = 0
        var line = 1
        var lineStart = 0

        func peek(_ offset: Int = 0) -> Character? {
            index + offset < characters.count ? characters[index + offset] : nil
        }
        func advance() {
            if characters[index] == "\n" {
                line += 1
                lineStart = index + 1
            }
            index += 1
        }
        /// `[[`, `[==[`: the level, or nil when this is not a long bracket.
        func longBracketLevel() -> Int? {
            guard peek() == "[" else { return nil }
            var level = 0
            while peek(1 + level) == "=" { level += 1 }
            return peek(1 + level) == "[" ? level : nil
        }
        func skipLongBracket(level: Int) -> String {
            for _ in 0..<(level + 2) { advance() }
            var text = ""
            while index < characters.count {
                if peek() == "]" {
                    var closing = 0
                    while peek(1 + closing) == "=" { closing += 1 }
                    if closing == level && peek(1 + closing) == "]" {
                        for _ in 0..<(level + 2) { advance() }
                        return text
                    }
                }
                text.append(characters[index])
                advance()
            }
            return text
        }

        while index < characters.count {
            let character = characters[index]
            let column = index - lineStart + 1
            let startLine = line
            if character.isWhitespace {
                advance()
            } else if character == "-" && peek(1) == "-" {
                advance()
                advance()
                if let level = longBracketLevel() {
                    _ = skipLongBracket(level: level)
                } else {
                    while let next = peek(), next != "\n" { advance() }
                }
            } else if character.isLetter || character == "_" {
                var text = ""
                while let next = peek(), next.isLetter || next.isNumber || next == "_" {
                    text.append(next)
                    advance()
                }
                tokens.append(
                    LuaToken(
                        kind: keywords.contains(text) ? .keyword : .name, text: text, line: startLine, column: column))
            } else if character.isNumber || (character == "." && peek(1)?.isNumber == true) {
                var text = ""
                while let next = peek(),
                    next.isNumber || next.isLetter || next == "." || next == "_"
                        || ((next == "+" || next == "-") && "eEpP".contains(text.last ?? " "))
                {
                    text.append(next)
                    advance()
                }
                tokens.append(LuaToken(kind: .number, text: text, line: startLine, column: column))
            } else if character == "\"" || character == "'" {
                advance()
                var text = ""
                while let next = peek(), next != character, next != "\n" {
                    if next == "\\", index + 1 < characters.count {
                        text.append(next)
                        advance()
                    }
                    text.append(characters[index])
                    advance()
                }
                guard peek() == character else { return tokens }
                advance()
                tokens.append(LuaToken(kind: .string, text: text, line: startLine, column: column))
            } else if let level = longBracketLevel() {
                let text = skipLongBracket(level: level)
                tokens.append(LuaToken(kind: .string, text: text, line: startLine, column: column))
            } else {
                let rest = String(characters[index..<min(index + 3, characters.count)])
                let symbol = symbols.first { rest.hasPrefix($0) } ?? String(character)
                for _ in 0..<symbol.count { advance() }
                tokens.append(LuaToken(kind: .symbol, text: symbol, line: startLine, column: column))
            }
        }
        return tokens
    }
}
