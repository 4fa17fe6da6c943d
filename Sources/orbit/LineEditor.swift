import CEdit
import Foundation

/// Reads the REPL's input: with libedit on a terminal (line editing, persistent history, Tab completion), or plain
/// lines from a pipe, without prompts. Every C call of the REPL is in this file.
final class LineEditor {
    /// Candidates completing the word before the cursor, given the line up to the cursor.
    typealias Completion = (String) -> [String]

    /// Whether standard input is a terminal.
    static var inputIsTerminal: Bool { isatty(STDIN_FILENO) != 0 }

    private let editor: OpaquePointer?
    private let history: OpaquePointer?
    private let historyPath: String?
    private let completion: Completion
    /// The prompt libedit shows, as a C string owned by this editor.
    private var promptText: UnsafeMutablePointer<CChar> = strdup("")

    /// An editor on the terminal, keeping history in `historyPath`; plain line reading when stdin is not a terminal.
    init(historyPath: String?, completion: @escaping Completion) {
        self.completion = completion
        guard Self.inputIsTerminal else {
            editor = nil
            history = nil
            self.historyPath = nil
            return
        }
        self.historyPath = historyPath
        history = orbit_history_open(1000)
        editor = orbit_editor_open("orbit")
        if let historyPath { orbit_history_load(history, historyPath) }
        let prompt: orbit_prompt_fn = { editor in
            guard let client = orbit_editor_client(editor) else { return nil }
            return Unmanaged<LineEditor>.fromOpaque(client).takeUnretainedValue().promptText
        }
        let complete: orbit_key_fn = { editor, _ in
            guard let editor, let client = orbit_editor_client(editor) else { return UInt8(CC_ERROR) }
            return Unmanaged<LineEditor>.fromOpaque(client).takeUnretainedValue().complete(in: editor)
        }
        orbit_editor_setup(editor, prompt, history, complete, Unmanaged.passUnretained(self).toOpaque())
        // Ctrl-C must not end the session (and lose its variables): it is ignored; Ctrl-D or .quit end it.
        signal(SIGINT, SIG_IGN)
    }

    deinit {
        if let editor { el_end(editor) }
        if let history { history_end(history) }
        free(promptText)
    }

    /// The next line without its newline, or nil at the end of input.
    func readLine(prompt: String) -> String? {
        guard let editor else { return Swift.readLine(strippingNewline: true) }
        free(promptText)
        promptText = strdup(prompt)
        var count: Int32 = 0
        guard let raw = el_gets(editor, &count), count > 0 else { return nil }
        var line = String(cString: raw)
        if line.hasSuffix("\n") { line.removeLast() }
        if !line.trimmingCharacters(in: .whitespaces).isEmpty {
            orbit_history_add(history, line)
            if let historyPath { orbit_history_save(history, historyPath) }
        }
        return line
    }

    /// Tab: completes the word before the cursor as far as the candidates agree, or lists them.
    private func complete(in editor: OpaquePointer) -> UInt8 {
        guard let info = el_line(editor)?.pointee, let start = info.buffer else { return UInt8(CC_ERROR) }
        let length = info.cursor - start
        let bytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(start), count: max(0, length))
        let before = String(decoding: bytes, as: UTF8.self)
        let word = String(before.reversed().prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }.reversed())
        let candidates = completion(before)
        guard let first = candidates.first else { return UInt8(CC_REFRESH_BEEP) }
        let common = candidates.dropFirst().reduce(first) { prefix, candidate in
            String(zip(prefix, candidate).prefix { $0 == $1 }.map(\.0))
        }
        if common.count > word.count {
            _ = el_insertstr(editor, String(common.dropFirst(word.count)))
            return UInt8(CC_REFRESH)
        }
        guard candidates.count > 1 else { return UInt8(CC_REFRESH) }
        FileHandle.standardOutput.write(Data(("\n" + candidates.joined(separator: "  ") + "\n").utf8))
        return UInt8(CC_REDISPLAY)
    }
}
