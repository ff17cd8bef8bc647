// drht_jpeg: libjpeg-turbo behind a longjmp-safe C interface (see README.md).
#ifndef DRHT_JPEG_H
#define DRHT_JPEG_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t width;
    uint32_t height;
    int components;     // as stored: 1 gray, 3 YCbCr/RGB, 4 CMYK/YCCK
    int progressive;    // 1 for a progressive JPEG
    char message[256];  // the error, when a function returns non-zero
} drht_jpeg_info;

/// Reads the header only. Returns 0 on success.
int drht_jpeg_read_header(const uint8_t *data, size_t size, drht_jpeg_info *info);

/// Decodes to 8-bit RGB (gray is replicated) into `out` (height * width * 3 bytes).
/// Corrupt-data warnings (including a truncated file) are treated as errors.
int drht_jpeg_decode(const uint8_t *data, size_t size, drht_jpeg_info *info, uint8_t *out,
                     size_t out_size);

/// Called with each decoded row (width * 3 bytes of RGB) and its index.
typedef void (*drht_jpeg_row_fn)(void *ctx, const uint8_t *row, uint32_t y);

/// Decodes row by row into `row` (width * 3 bytes), calling `each_row` after each, so a large
/// image is read without holding it. Returns 0 on success.
int drht_jpeg_decode_rows(const uint8_t *data, size_t size, drht_jpeg_info *info, uint8_t *row,
                          size_t row_size, drht_jpeg_row_fn each_row, void *row_ctx);

/// Encodes 8-bit RGB pixels to a JPEG in memory (free with drht_jpeg_free).
int drht_jpeg_encode(const uint8_t *rgb, uint32_t width, uint32_t height, int quality,
                     int progressive, uint8_t **jpeg, size_t *jpeg_size, char *message,
                     size_t message_size);
void drht_jpeg_free(uint8_t *jpeg);

#endif
