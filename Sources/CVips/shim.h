#ifndef PALIER_CVIPS_SHIM_H
#define PALIER_CVIPS_SHIM_H
// libvips (Debian's libvips42) behind plain functions: its API is variadic (name/value option
// lists ending in NULL), which Swift cannot call. Nothing of vips' types crosses this file:
// callers see byte buffers, numbers and the loader's name.
#include <vips/vips.h>
#include <string.h>

/// Starts libvips once: one worker thread (a small box, and calls are serialised anyway), no
/// operation cache (each image is seen once), and every loader blocked but the four palier
/// reads (JPEG, PNG, WebP, and HEIF for phones' photos) — PDF, SVG, TIFF, ImageMagick and the
/// rest never see bytes from outside. Returns 0 on success.
static inline void palier_vips_quiet(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer data) {
    (void)domain; (void)level; (void)message; (void)data;
}

static inline int palier_vips_start(void) {
    if (VIPS_INIT("palier")) return -1;
    // palier says itself why an image is refused, in the user's language: libvips' own
    // warnings ("error in tile 0 x 104") would only reach the terminal as noise.
    g_log_set_handler("VIPS", (GLogLevelFlags)(G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO), palier_vips_quiet, NULL);
    vips_concurrency_set(1);
    // No run-time code generation (liborc): the node's systemd unit forbids memory both
    // writable and executable (MemoryDenyWriteExecute), and a small image gains little from it.
    vips_vector_set_enabled(FALSE);
    vips_cache_set_max(0);
    vips_cache_set_max_mem(0);
    vips_block_untrusted_set(TRUE);
    vips_operation_block_set("VipsForeignLoad", TRUE);
    vips_operation_block_set("VipsForeignLoadJpegBuffer", FALSE);
    vips_operation_block_set("VipsForeignLoadPngBuffer", FALSE);
    vips_operation_block_set("VipsForeignLoadWebpBuffer", FALSE);
    vips_operation_block_set("VipsForeignLoadHeifBuffer", FALSE);
    return 0;
}

/// The last error's text (copied into `out`, at most `capacity` − 1 bytes), then cleared.
static inline void palier_vips_take_error(char *out, size_t capacity) {
    const char *text = vips_error_buffer();
    size_t length = text ? strlen(text) : 0;
    if (length >= capacity) length = capacity - 1;
    if (length) memcpy(out, text, length);
    out[length] = 0;
    vips_error_clear();
}

/// Reads only the header of an image in memory: its size and the loader that recognised it
/// (e.g. "jpegload_buffer", copied into `loader`). No pixel is decoded. Returns 0 on success.
static inline int palier_vips_header(const void *bytes, size_t length, int *width, int *height,
                                     char *loader, size_t loader_capacity) {
    VipsImage *image = vips_image_new_from_buffer(bytes, length, "", "access", VIPS_ACCESS_SEQUENTIAL, NULL);
    if (!image) return -1;
    *width = vips_image_get_width(image);
    *height = vips_image_get_height(image);
    const char *name = NULL;
    loader[0] = 0;
    if (!vips_image_get_string(image, "vips-loader", &name) && name) {
        strncpy(loader, name, loader_capacity - 1);
        loader[loader_capacity - 1] = 0;
    }
    g_object_unref(image);
    return 0;
}

/// Decodes every pixel of an image in memory, stopping at a truncation or a decoder error:
/// proves the bytes are a whole image. Returns 0 when they are.
static inline int palier_vips_decode_all(const void *bytes, size_t length) {
    VipsImage *image = vips_image_new_from_buffer(bytes, length, "", "access", VIPS_ACCESS_SEQUENTIAL,
                                                  "fail_on", VIPS_FAIL_ON_ERROR, NULL);
    if (!image) return -1;
    double average = 0;
    int failed = vips_avg(image, &average, NULL);
    g_object_unref(image);
    return failed ? -1 : 0;
}

/// Shrinks an image in memory to fit `maximum` × `maximum` (never enlarging), turned upright
/// by its EXIF orientation, in sRGB, flattened on white, and encodes it as a baseline JPEG of
/// `quality` with every metadata block stripped (EXIF, GPS, XMP, IPTC, ICC, comments). The
/// encoded bytes are returned in `*out` (free with palier_vips_free) and their size in
/// `*out_length`; the result's size in `width`/`height`. A truncated or corrupt input fails.
/// Returns 0 on success.
static inline int palier_vips_jpeg_thumbnail(const void *bytes, size_t length, int maximum, int quality,
                                             void **out, size_t *out_length, int *width, int *height) {
    VipsImage *thumbnail = NULL;
    if (vips_thumbnail_buffer((void *)bytes, length, &thumbnail, maximum, "height", maximum,
                              "size", VIPS_SIZE_DOWN, "option_string", "fail_on=error", NULL)) return -1;
    VipsImage *flat = NULL;
    if (vips_image_hasalpha(thumbnail)) {
        VipsArrayDouble *white = vips_array_double_newv(1, 255.0);
        int failed = vips_flatten(thumbnail, &flat, "background", white, NULL);
        vips_area_unref(VIPS_AREA(white));
        g_object_unref(thumbnail);
        if (failed) return -1;
    } else {
        flat = thumbnail;
    }
    VipsImage *srgb = NULL;
    int failed = vips_colourspace(flat, &srgb, VIPS_INTERPRETATION_sRGB, NULL);
    g_object_unref(flat);
    if (failed) return -1;
    *width = vips_image_get_width(srgb);
    *height = vips_image_get_height(srgb);
    failed = vips_jpegsave_buffer(srgb, out, out_length, "Q", quality, "strip", TRUE,
                                  "optimize_coding", TRUE, "interlace", FALSE, NULL);
    g_object_unref(srgb);
    return failed ? -1 : 0;
}

static inline void palier_vips_free(void *bytes) { g_free(bytes); }

#endif
