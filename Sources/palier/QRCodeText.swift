import Foundation
import PalierFeed

/// A QR code in the terminal, two modules per character cell (▀ ▄ █), with its quiet zone.
enum QRCodeText {
    /// The QR code of `text`, or nil when it cannot be encoded. Case-insensitive text
    /// (enrolment codes) is encoded upper-cased, in QR's compact alphanumeric mode.
    static func render(_ text: String, caseInsensitive: Bool, colours: Bool) -> String? {
        guard let symbol = QRCode(text, caseInsensitive: caseInsensitive) else { return nil }
        let side = symbol.side
        var lines: [String] = []
        for y in stride(from: 0, to: side, by: 2) {
            var line = colours ? "\u{1B}[30;47m" : ""
            for x in 0..<side {
                switch (symbol.isDark(x, y), y + 1 < side && symbol.isDark(x, y + 1)) {
                case (true, true): line += "█"
                case (true, false): line += "▀"
                case (false, true): line += "▄"
                case (false, false): line += " "
                }
            }
            lines.append(line + (colours ? "\u{1B}[0m" : ""))
        }
        return lines.joined(separator: "\n")
    }
}
