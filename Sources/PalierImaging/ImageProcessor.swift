import CVips
import PalierCore
import Synchronization

/// An image made ready to post: re-encoded, stripped, within the screen's size and the byte cap.
public struct PreparedImage: Sendable, Hashable {
    public let bytes: [UInt8]
    public let type: ImageType
    public let width: Int
    public let height: Int
}

/// Why an image was refused, in a sentence a resident can act on.
public struct ImageError: Error, Hashable, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Images through libvips (Debian's libvips42): decoding, shrinking, turning upright and
/// re-encoding the residents' photos, and checking the blobs that come from neighbours.
///
/// libvips was chosen over calling libjpeg, libpng and libwebp one by one because one call does
/// what a resident's photo needs — decode with shrink-on-load (a 48-megapixel JPEG is decoded
/// at an eighth of its size, in bounded memory), turn it upright by its EXIF orientation, convert
/// to sRGB and re-encode without any metadata — and because it reads HEIF, the format of
/// phones' photos. Every loader but JPEG, PNG, WebP and HEIF is blocked (`shim.h`), and a
/// header is read, and its size checked, before any pixel is decoded.
///
/// Calls are serialised: libvips keeps one error buffer for the process, and a small box
/// gains nothing from decoding two images at once.
public enum ImageProcessor {
    /// The longest side of a prepared image: a full-HD screen in either orientation.
    public static let maximumSide = 1920
    /// The most bytes a prepared image may take; qualities are tried from the first down.
    public static let maximumPreparedBytes = 512 * 1024
    static let qualities: [Int32] = [82, 72, 62]
    /// The largest input file read.
    public static let maximumInputBytes = 40 << 20
    /// The most pixels an input may have: more is refused from its header, before decoding
    /// (a small PNG can announce 100,000 × 100,000 pixels).
    public static let maximumInputPixels = 50_000_000

    private static let lock = Mutex<Bool>(false)

    /// Runs `body` with libvips started, one call at a time.
    static func withVips<T>(_ body: () throws(ImageError) -> T) throws(ImageError) -> T {
        let outcome: Result<T, ImageError> = lock.withLock { started in
            if !started {
                guard palier_vips_start() == 0 else {
                    return .failure(ImageError(L("the image library (libvips) could not start", "la bibliothèque d'images (libvips) n'a pas pu démarrer")))
                }
                started = true
            }
            do throws(ImageError) { return .success(try body()) } catch { return .failure(error) }
        }
        return try outcome.get()
    }

    static func lastError() -> String {
        var buffer = [CChar](repeating: 0, count: 512)
        palier_vips_take_error(&buffer, buffer.count)
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return text.split(separator: "\n").first.map(String.init) ?? ""
    }

    /// The header's size and loader, or the refusal of bytes that are no image palier reads.
    static func header(_ bytes: [UInt8]) throws(ImageError) -> (width: Int, height: Int, loader: String) {
        var width: Int32 = 0, height: Int32 = 0
        var loader = [CChar](repeating: 0, count: 64)
        let status = bytes.withUnsafeBytes { palier_vips_header($0.baseAddress, $0.count, &width, &height, &loader, loader.count) }
        guard status == 0 else {
            _ = lastError()
            throw ImageError(L("this file is not an image palier can read (JPEG, PNG, WebP or HEIF)",
                               "ce fichier n'est pas une image que palier sait lire (JPEG, PNG, WebP ou HEIF)"))
        }
        let name = String(decoding: loader.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return (Int(width), Int(height), name)
    }

    /// The type a loader reads, for blobs: HEIF is read from a resident's own file only.
    static func blobType(loader: String) -> ImageType? {
        switch loader {
        case "jpegload_buffer": .jpeg
        case "pngload_buffer": .png
        case "webpload_buffer": .webp
        default: nil
        }
    }

    /// Makes an image file's bytes ready to post: refused when it is no image, too large in
    /// pixels or bytes, or truncated; otherwise shrunk to fit ``maximumSide``, turned upright,
    /// flattened on white and re-encoded as JPEG with no metadata (no EXIF, no GPS position).
    public static func prepare(_ input: [UInt8]) throws(ImageError) -> PreparedImage {
        guard !input.isEmpty else { throw ImageError(L("the file is empty", "le fichier est vide")) }
        guard input.count <= maximumInputBytes else {
            throw ImageError(L("the file is \(input.count / 1_048_576) MiB; palier reads images of at most \(maximumInputBytes >> 20) MiB",
                               "le fichier fait \(input.count / 1_048_576) Mio ; palier lit des images de \(maximumInputBytes >> 20) Mio au plus"))
        }
        return try withVips { () throws(ImageError) in
            let head = try header(input)
            guard head.width > 0, head.height > 0, head.width.multipliedReportingOverflow(by: head.height).partialValue <= maximumInputPixels,
                  head.width <= 100_000, head.height <= 100_000 else {
                throw ImageError(L("the image announces \(head.width) × \(head.height) pixels; palier reads at most \(maximumInputPixels / 1_000_000) megapixels",
                                   "l'image annonce \(head.width) × \(head.height) pixels ; palier lit au plus \(maximumInputPixels / 1_000_000) mégapixels"))
            }
            for quality in qualities {
                var out: UnsafeMutableRawPointer?
                var length = 0
                var width: Int32 = 0, height: Int32 = 0
                let status = input.withUnsafeBytes {
                    palier_vips_jpeg_thumbnail($0.baseAddress, $0.count, Int32(maximumSide), quality, &out, &length, &width, &height)
                }
                guard status == 0, let out else {
                    let cause = lastError()
                    throw ImageError(L("the image could not be read to its end (truncated or damaged: \(cause))",
                                       "l'image n'a pas pu être lue jusqu'au bout (tronquée ou abîmée : \(cause))"))
                }
                let bytes = Array(UnsafeRawBufferPointer(start: out, count: length))
                palier_vips_free(out)
                if bytes.count <= maximumPreparedBytes {
                    return PreparedImage(bytes: bytes, type: .jpeg, width: Int(width), height: Int(height))
                }
            }
            throw ImageError(L("the image stays above \(maximumPreparedBytes / 1024) KiB even re-encoded; crop it or simplify it",
                               "l'image reste au-dessus de \(maximumPreparedBytes / 1024) Kio même réencodée ; recadrez-la ou simplifiez-la"))
        }
    }

    /// Checks a blob received for `reference`: its bytes are a whole image of the referenced
    /// type and pixel size. Nil when they are; otherwise why not. (Its hash and size are
    /// checked before this, by whoever received it.)
    public static func check(_ bytes: [UInt8], against reference: ImageReference) -> String? {
        check(bytes, type: reference.type, width: Int(reference.width), height: Int(reference.height))
    }

    /// Checks a blob's bytes against the type and pixel size its post gives.
    public static func check(_ bytes: [UInt8], type: ImageType, width: Int, height: Int) -> String? {
        do throws(ImageError) {
            try withVips { () throws(ImageError) in
                let head = try header(bytes)
                guard blobType(loader: head.loader) == type else {
                    throw ImageError(L("the bytes are not \(type.mediaType)", "les octets ne sont pas du \(type.mediaType)"))
                }
                guard head.width == width, head.height == height else {
                    throw ImageError(L("the image is \(head.width) × \(head.height) pixels, not \(width) × \(height) as its post says",
                                       "l'image fait \(head.width) × \(head.height) pixels, pas \(width) × \(height) comme le dit sa publication"))
                }
                let status = bytes.withUnsafeBytes { palier_vips_decode_all($0.baseAddress, $0.count) }
                guard status == 0 else {
                    let cause = lastError()
                    throw ImageError(L("the image does not decode to its end (\(cause))", "l'image ne se décode pas jusqu'au bout (\(cause))"))
                }
            }
            return nil
        } catch {
            return error.description
        }
    }
}
