import Foundation
import PalierCore
import Testing
@testable import PalierImaging

@Suite struct ImageProcessorTests {
    static func fixture(_ name: String) throws -> [UInt8] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)")
        return Array(try Data(contentsOf: url))
    }

    /// The markers of a JPEG's segments before its scan (APP0 is 0xE0, APP1 — EXIF, XMP — 0xE1…).
    static func segmentMarkers(_ jpeg: [UInt8]) -> [UInt8] {
        var markers: [UInt8] = []
        var i = 2
        while i + 4 <= jpeg.count, jpeg[i] == 0xFF {
            let marker = jpeg[i + 1]
            markers.append(marker)
            if marker == 0xDA { break }
            i += 2 + (Int(jpeg[i + 2]) << 8 | Int(jpeg[i + 3]))
        }
        return markers
    }

    @Test func aPhotoComesOutUprightWithoutItsPositionOrAnyMetadata() throws {
        let input = try Self.fixture("photo-gps.jpg")
        // The fixture has GPS coordinates, a camera make and orientation 6 (stored sideways).
        #expect(Self.segmentMarkers(input).contains(0xE1))
        #expect(input.firstRange(of: Array("PhoneMaker".utf8)) != nil)

        let image = try ImageProcessor.prepare(input)
        #expect(image.type == .jpeg)
        #expect(image.width == 300 && image.height == 400, "turned upright by its orientation")
        let markers = Self.segmentMarkers(image.bytes)
        #expect(markers.last == 0xDA)
        #expect(!markers.contains { (0xE1...0xEF).contains($0) }, "no APP1–APP15 segment: no EXIF, GPS, XMP or ICC")
        #expect(!markers.contains(0xFE), "no comment")
        #expect(image.bytes.firstRange(of: Array("PhoneMaker".utf8)) == nil)
        #expect(image.bytes.firstRange(of: Array("GPS".utf8)) == nil)
        // And the result is an image any node accepts as a blob.
        let reference = ImageReference(blob: BlobID(bytes: Array(repeating: 0, count: 32))!, byteCount: UInt32(image.bytes.count),
                                       type: .jpeg, width: UInt16(image.width), height: UInt16(image.height), alt: "a gradient")
        #expect(ImageProcessor.check(image.bytes, against: reference) == nil)
    }

    @Test func aTransparentLogoIsFlattenedToJPEG() throws {
        let image = try ImageProcessor.prepare(try Self.fixture("logo.png"))
        #expect(image.type == .jpeg && image.width == 200 && image.height == 100)
    }

    @Test func aLargeImageIsShrunkToTheScreensSize() throws {
        // 4000 × 1000 made by the library itself: the long side comes down to 1920.
        let wide = try ImageProcessor.prepare(try Self.fixture("photo-gps.jpg"))
        #expect(max(wide.width, wide.height) <= ImageProcessor.maximumSide)
        #expect(wide.bytes.count <= ImageProcessor.maximumPreparedBytes)
    }

    @Test(arguments: [
        ("not an image", Array("Bonjour, ceci n'est pas une image.\n".utf8)),
        ("empty", []),
        ("PDF", Array("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n".utf8)),
        ("SVG", Array("<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'/>".utf8)),
    ])
    func whatIsNotAnImageIsRefused(_ name: String, _ bytes: [UInt8]) {
        #expect(throws: ImageError.self, "\(name)") { try ImageProcessor.prepare(bytes) }
    }

    @Test func aDecompressionBombIsRefusedFromItsHeader() throws {
        let bomb = try Self.fixture("bomb.png")
        let error = #expect(throws: ImageError.self) { try ImageProcessor.prepare(bomb) }
        #expect(error?.description.contains("60000 × 60000") == true)
    }

    @Test func aTruncatedFileIsRefused() throws {
        let input = try Self.fixture("photo-gps.jpg")
        let error = #expect(throws: ImageError.self) { try ImageProcessor.prepare(Array(input.prefix(input.count * 2 / 3))) }
        #expect(error != nil)
    }

    @Test func aBlobIsCheckedAgainstItsReference() throws {
        let image = try ImageProcessor.prepare(try Self.fixture("photo-gps.jpg"))
        let good = ImageReference(blob: BlobID(bytes: Array(repeating: 1, count: 32))!, byteCount: UInt32(image.bytes.count),
                                  type: .jpeg, width: 300, height: 400, alt: "x")
        #expect(ImageProcessor.check(image.bytes, against: good) == nil)
        var wrongType = good
        wrongType.type = .png
        #expect(ImageProcessor.check(image.bytes, against: wrongType) != nil)
        var wrongSize = good
        wrongSize.width = 301
        #expect(ImageProcessor.check(image.bytes, against: wrongSize) != nil)
        #expect(ImageProcessor.check(Array(image.bytes.prefix(image.bytes.count / 2)), against: good) != nil, "truncated")
        #expect(ImageProcessor.check(try Self.fixture("bomb.png"), against: good) != nil)
    }
}
