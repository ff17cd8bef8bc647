// Text from outside (file headers, names, command lines) made safe to print in a one-line
// message: control characters escaped, length bounded.

/// `s` with control characters written as escapes (`\n`, `\t`, `\r`, `\x1b`, `\u{85}`…) and
/// cut to about `limit` characters (`…` and the full length appended), so a message built from
/// it stays one line, cannot move the cursor or recolour the terminal, and stays short.
public func printable<S: StringProtocol>(_ s: S, limit: Int = 80) -> String {
    var out = ""
    var shown = 0
    for scalar in s.unicodeScalars {
        if shown >= limit { return out + "… (\(s.count) characters)" }
        switch scalar {
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        case _ where scalar.value < 0x20 || scalar.value == 0x7F:
            out += "\\x" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
        case _ where (0x80...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029
                     || (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value):
            out += "\\u{" + String(scalar.value, radix: 16) + "}"     // C1 controls, line separators, bidi overrides
        default: out.unicodeScalars.append(scalar)
        }
        shown += 1
    }
    return out
}
