// drht_png: libpng behind a longjmp-safe C interface.
// libpng reports errors by longjmp-ing out of the failing call; Swift frames must never be
// jumped over, so every libpng call happens here, inside setjmp, and errors come back as a
// non-zero return value plus a message.
#ifndef DRHT_PNG_H
#define DRHT_PNG_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t width;
    uint32_t height;
    int bit_depth;        // as stored in the file: 1, 2, 4, 8 or 16
    int color_type;       // PNG colour type: 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA
    int interlaced;       // 1 for Adam7
    int out_channels;     // channels of the decoded samples: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA
    int out_bit_depth;    // 8 or 16 (16-bit samples are native-endian uint16)
    char message[256];    // the error, when a function returns non-zero
} drht_png_info;

/// Reads only the header. Returns 0 on success.
int drht_png_read_header(const uint8_t *data, size_t size, drht_png_info *info);

/// Decodes the whole image into `out` (height * width * out_channels samples of
/// out_bit_depth bits), expanding palette, tRNS and low bit depths. Returns 0 on success.
int drht_png_decode(const uint8_t *data, size_t size, drht_png_info *info,
                    uint8_t *out, size_t out_size);

/// Called with each decoded row (width * out_channels samples) and its index.
typedef void (*drht_png_row_fn)(void *ctx, const uint8_t *row, uint32_t y);

/// Decodes row by row into `row` (one row's samples), calling `each_row` after each, so a large
/// image is read without holding it. Returns 0 on success, 1 on an error, 2 for an interlaced
/// file (its rows are only complete at the end: decode it whole).
int drht_png_decode_rows(const uint8_t *data, size_t size, drht_png_info *info, uint8_t *row,
                         size_t row_size, drht_png_row_fn each_row, void *row_ctx);

/// Encodes `pixels` (height rows of width * channels samples, 8-bit or native-endian 16-bit)
/// into a PNG held in memory. On success returns 0 and sets *png / *png_size; free the
/// buffer with drht_png_free.
int drht_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels,
                    int bit_depth, uint8_t **png, size_t *png_size, char *message,
                    size_t message_size);
void drht_png_free(uint8_t *png);

#endif
