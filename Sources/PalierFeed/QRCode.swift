import CQRencode

/// A QR code symbol made by libqrencode (Debian's libqrencode4): the screen's codes for posts'
/// links, and the CLI's for enrolment codes. palier only draws it.
public struct QRCode: Sendable, Hashable {
    /// Modules per side, quiet zone excluded.
    public let width: Int
    /// Row by row, `true` for a dark module.
    public let modules: [Bool]
    /// The quiet zone readers need around the symbol, in modules.
    public static let quietZone = 4

    /// The QR code of `text` (error correction M), or nil when libqrencode cannot encode it.
    /// Case-insensitive text is encoded upper-cased, in QR's compact alphanumeric mode.
    public init?(_ text: String, caseInsensitive: Bool = false) {
        guard let symbol = QRcode_encodeString(caseInsensitive ? text.uppercased() : text, 0, QR_ECLEVEL_M, QR_MODE_8,
                                               caseInsensitive ? 0 : 1) else { return nil }
        defer { QRcode_free(symbol) }
        width = Int(symbol.pointee.width)
        modules = (0..<width * width).map { symbol.pointee.data[$0] & 1 == 1 }
    }

    /// Whether the module at (x, y) of the symbol with its quiet zone is dark.
    public func isDark(_ x: Int, _ y: Int) -> Bool {
        let (mx, my) = (x - Self.quietZone, y - Self.quietZone)
        guard mx >= 0, my >= 0, mx < width, my < width else { return false }
        return modules[my * width + mx]
    }

    /// Modules per side, quiet zone included.
    public var side: Int { width + 2 * Self.quietZone }

    /// A standalone SVG document: one path of unit squares, black on white, that scales to any
    /// size without blurring. It holds no text of the post: only squares.
    public var svg: String {
        var path = ""
        for y in 0..<side {
            var x = 0
            while x < side {
                guard isDark(x, y) else { x += 1; continue }
                var run = 1
                while x + run < side, isDark(x + run, y) { run += 1 }
                path += "M\(x) \(y)h\(run)v1h-\(run)z"
                x += run
            }
        }
        return """
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(side) \(side)" shape-rendering="crispEdges">\
            <rect width="\(side)" height="\(side)" fill="#fff"/><path d="\(path)" fill="#000"/></svg>
            """
    }
}
