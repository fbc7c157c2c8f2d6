import Foundation

/// Makes posted text safe to put on a shared screen.
///
/// Bidirectional controls (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069) would let a post
/// reorder the text displayed after it; zero-width characters (U+200B–U+200D, U+2060, U+FEFF)
/// hide content. Both are removed. Control characters other than line feed become spaces.
/// Lengths are clamped to what a screen can show, with an ellipsis.
public enum ScreenText {
    static let removed: Set<UInt32> = [
        0x061C, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069,
        0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF,
    ]

    /// Whether a scalar is one the screen never shows.
    public static func isNeutralised(_ scalar: Unicode.Scalar) -> Bool {
        removed.contains(scalar.value)
    }

    /// The text without bidirectional or zero-width characters, at most `limit` characters
    /// (grapheme clusters, so that an accent is never cut from its letter).
    public static func safe(_ text: String, limit: Int, keepLineBreaks: Bool = false) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars where !isNeutralised(scalar) {
            if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                scalars.append(keepLineBreaks && scalar == "\n" ? "\n" : " ")
            } else {
                scalars.append(scalar)
            }
        }
        let cleaned = String(scalars)
        guard cleaned.count > limit else { return cleaned }
        return String(cleaned.prefix(max(limit - 1, 0))).trimmingTrailingSpaces() + "…"
    }
}

extension ScreenText {
    /// A name as people read it: without case, accents, spaces, punctuation or invisible
    /// characters ("Résidence des Lilas" and "residence  DES-lilas" fold the same).
    public static func folded(_ name: String) -> String {
        let plain = name.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil)
        return String(String.UnicodeScalarView(plain.unicodeScalars.filter { scalar in
            !isNeutralised(scalar) && (scalar.properties.isAlphabetic || scalar.properties.numericType != nil)
        }))
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = Substring(self)
        while let last = s.last, last == " " || last == "\n" { s = s.dropLast() }
        return String(s)
    }
}
