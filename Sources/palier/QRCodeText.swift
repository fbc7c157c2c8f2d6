import CQRencode
import Foundation

/// A QR code in the terminal, two modules per character cell (▀ ▄ █), with its quiet zone:
/// libqrencode (Debian's libqrencode4) makes the symbol; palier only draws it.
enum QRCodeText {
    /// The QR code of `text` (error correction M), or nil when libqrencode cannot encode it.
    /// Case-insensitive text (enrolment codes) is encoded upper-cased, in QR's compact
    /// alphanumeric mode.
    static func render(_ text: String, caseInsensitive: Bool, colours: Bool) -> String? {
        guard let symbol = QRcode_encodeString(caseInsensitive ? text.uppercased() : text, 0, QR_ECLEVEL_M, QR_MODE_8,
                                               caseInsensitive ? 0 : 1) else { return nil }
        defer { QRcode_free(symbol) }
        let width = Int(symbol.pointee.width)
        let quiet = 4
        let side = width + 2 * quiet
        func dark(_ x: Int, _ y: Int) -> Bool {
            let (mx, my) = (x - quiet, y - quiet)
            guard mx >= 0, my >= 0, mx < width, my < width else { return false }
            return symbol.pointee.data[my * width + mx] & 1 == 1
        }
        var lines: [String] = []
        for y in stride(from: 0, to: side, by: 2) {
            var line = colours ? "\u{1B}[30;47m" : ""
            for x in 0..<side {
                switch (dark(x, y), y + 1 < side && dark(x, y + 1)) {
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
