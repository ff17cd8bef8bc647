// GNU readline, used through its callback interface with a poll loop (the pattern of CPython's
// readline_until_enter_or_signal): readline never installs signal handlers of its own
// (rl_catch_signals = 0), our SIGINT handler only sets a flag, and the loop notices it between
// keystrokes to clear the line. History persists in ~/.drht_history; Tab asks `Completion`.
@preconcurrency import CReadline
import Foundation
import DRHTTasks

public final class LineEditor {
    public enum Input: Equatable { case line(String), endOfInput, interrupted }

    /// readline's C callbacks cannot capture context: they reach the editor through these.
    nonisolated(unsafe) static var pending: Input?
    nonisolated(unsafe) static var session: Session?
    nonisolated(unsafe) static var candidates: [String] = []
    nonisolated(unsafe) static var candidateIndex = 0

    let historyPath: String

    public init(session: Session) {
        LineEditor.session = session
        historyPath = ProcessInfo.processInfo.environment["DRHT_HISTORY"]
            ?? (NSHomeDirectory() as NSString).appendingPathComponent(".drht_history")
        rl_catch_signals = 0
        rl_readline_name = UnsafePointer(strdup("drht"))
        rl_attempted_completion_function = { text, start, end in LineEditor.complete(text, start, end) }
        // Break words at spaces only: `hdr.enc3` and paths stay whole words.
        rl_completer_word_break_characters = UnsafePointer(strdup(" \t\n"))
        stifle_history(2000)
        read_history(historyPath)
    }

    /// Reads one line. Ctrl-C clears the line and asks again (or, with `interruptEnds`, returns
    /// `.interrupted`); Ctrl-D on an empty line ends.
    /// `remember: false` keeps the answer out of the history (a lesson's pause).
    public func readLine(prompt: String, interruptEnds: Bool = false, remember: Bool = true) -> Input {
        LineEditor.pending = nil
        while true {
            rl_callback_handler_install(prompt) { raw in
                if let raw {
                    LineEditor.pending = .line(String(cString: raw))
                    free(raw)
                } else {
                    LineEditor.pending = .endOfInput
                }
                rl_callback_handler_remove()
            }
            var interrupted = false
            while LineEditor.pending == nil {
                if Interrupt.isRequested { interrupted = true; break }
                var fd = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
                let ready = poll(&fd, 1, 100)
                if ready > 0 {
                    if fd.revents & Int16(POLLIN | POLLHUP) != 0 { rl_callback_read_char() }
                    if fd.revents & Int16(POLLNVAL | POLLERR) != 0 { LineEditor.pending = .endOfInput }
                }
            }
            if interrupted {
                Interrupt.clear()
                // "^C" after what was typed (the cursor moved to the end of the line first), then
                // a fresh line: readline's cleanup returns the cursor to column 0, so writing
                // after it would print over the prompt.
                rl_point = rl_end
                rl_redisplay()
                FileHandle.standardOutput.write(Data("^C\n".utf8))
                rl_free_line_state()
                rl_callback_sigcleanup()
                rl_cleanup_after_signal()
                rl_callback_handler_remove()
                if interruptEnds { return .interrupted }
                continue
            }
            break
        }
        if remember, case .line(let text) = LineEditor.pending!, !text.trimmingCharacters(in: .whitespaces).isEmpty {
            add_history(text)
            append_history(1, historyPath)
            history_truncate_file(historyPath, 2000)
        }
        return LineEditor.pending!
    }

    /// Creates the history file (append_history needs one to exist).
    public func prepareHistoryFile() {
        if !FileManager.default.fileExists(atPath: historyPath) {
            _ = FileManager.default.createFile(atPath: historyPath, contents: nil, attributes: [.posixPermissions: 0o600])
        }
    }

    /// readline's attempted-completion hook: our candidates for the word, or file names.
    static func complete(_ text: UnsafePointer<CChar>?, _ start: Int32, _ end: Int32) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
        rl_attempted_completion_over = 1
        guard let session = LineEditor.session, let text else { return nil }
        let lineBytes = Array(UnsafeBufferPointer(start: rl_line_buffer, count: Int(strlen(rl_line_buffer))).map { UInt8(bitPattern: $0) })
        let before = String(decoding: lineBytes.prefix(Int(start)), as: UTF8.self)
        switch Completion.complete(before: before, word: String(cString: text), session: session) {
        case .paths:
            return rl_completion_matches(text, rl_filename_completion_function)
        case .words(let words):
            guard !words.isEmpty else { return nil }
            // A word that wants more after it (`hdr.latent:`, `out[`) gets no space.
            rl_completion_append_character = words.count == 1 && (words[0].hasSuffix(":") || words[0].hasSuffix("[")) ? 0 : 32
            LineEditor.candidates = words
            LineEditor.candidateIndex = 0
            return rl_completion_matches(text) { _, _ in
                guard LineEditor.candidateIndex < LineEditor.candidates.count else { return nil }
                LineEditor.candidateIndex += 1
                return strdup(LineEditor.candidates[LineEditor.candidateIndex - 1])
            }
        }
    }
}
