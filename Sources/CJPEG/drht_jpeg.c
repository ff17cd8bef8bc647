#include "drht_jpeg.h"
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char *message;
    size_t message_size;
} error_mgr_t;

static void on_error_exit(j_common_ptr cinfo) {
    error_mgr_t *err = (error_mgr_t *)cinfo->err;
    char buffer[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, buffer);
    snprintf(err->message, err->message_size, "%s", buffer);
    longjmp(err->jump, 1);
}

// libjpeg calls this with level -1 for warnings about corrupt data (for example
// "Premature end of JPEG file"). A learner should not get a silently grey image: fail.
static void on_emit_message(j_common_ptr cinfo, int level) {
    if (level < 0) on_error_exit(cinfo);
}

static int decode(const uint8_t *data, size_t size, drht_jpeg_info *info, uint8_t *out,
                  size_t out_size, drht_jpeg_row_fn each_row, void *row_ctx);

int drht_jpeg_read_header(const uint8_t *data, size_t size, drht_jpeg_info *info) {
    return decode(data, size, info, NULL, 0, NULL, NULL);
}

int drht_jpeg_decode(const uint8_t *data, size_t size, drht_jpeg_info *info, uint8_t *out,
                     size_t out_size) {
    return decode(data, size, info, out, out_size, NULL, NULL);
}

int drht_jpeg_decode_rows(const uint8_t *data, size_t size, drht_jpeg_info *info, uint8_t *row,
                          size_t row_size, drht_jpeg_row_fn each_row, void *row_ctx) {
    return decode(data, size, info, row, row_size, each_row, row_ctx);
}

static int decode(const uint8_t *data, size_t size, drht_jpeg_info *info, uint8_t *out,
                  size_t out_size, drht_jpeg_row_fn each_row, void *row_ctx) {
    memset(info, 0, sizeof *info);
    if (size < 3 || data[0] != 0xFF || data[1] != 0xD8 || data[2] != 0xFF) {
        snprintf(info->message, sizeof info->message, "not a JPEG file (bad signature)");
        return 1;
    }
    struct jpeg_decompress_struct cinfo;
    error_mgr_t err;
    cinfo.err = jpeg_std_error(&err.base);
    err.base.error_exit = on_error_exit;
    err.base.emit_message = on_emit_message;
    err.message = info->message;
    err.message_size = sizeof info->message;
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        return 1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, (const unsigned char *)data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    info->width = cinfo.image_width;
    info->height = cinfo.image_height;
    info->components = cinfo.num_components;
    info->progressive = jpeg_has_multiple_scans(&cinfo) ? 1 : 0;
    if (out == NULL) {
        jpeg_destroy_decompress(&cinfo);
        return 0;
    }
    if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
        snprintf(info->message, sizeof info->message,
                 "CMYK JPEGs are not supported; save the image as RGB");
        jpeg_destroy_decompress(&cinfo);
        return 1;
    }
    cinfo.out_color_space = JCS_RGB;
    jpeg_start_decompress(&cinfo);
    size_t stride = (size_t)cinfo.output_width * 3;
    if (cinfo.output_components != 3 || (each_row ? stride : stride * cinfo.output_height) > out_size) {
        snprintf(info->message, sizeof info->message, "unexpected decoded size");
        jpeg_destroy_decompress(&cinfo);
        return 1;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        uint32_t y = cinfo.output_scanline;
        JSAMPROW row = each_row ? out : out + (size_t)y * stride;
        jpeg_read_scanlines(&cinfo, &row, 1);
        if (each_row) each_row(row_ctx, out, y);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return 0;
}

int drht_jpeg_encode(const uint8_t *rgb, uint32_t width, uint32_t height, int quality,
                     int progressive, uint8_t **jpeg, size_t *jpeg_size, char *message,
                     size_t message_size) {
    struct jpeg_compress_struct cinfo;
    error_mgr_t err;
    unsigned char *buffer = NULL;
    unsigned long buffer_size = 0;
    *jpeg = NULL;
    *jpeg_size = 0;
    cinfo.err = jpeg_std_error(&err.base);
    err.base.error_exit = on_error_exit;
    err.message = message;
    err.message_size = message_size;
    if (setjmp(err.jump)) {
        jpeg_destroy_compress(&cinfo);
        free(buffer);
        return 1;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, &buffer, &buffer_size);
    cinfo.image_width = width;
    cinfo.image_height = height;
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    if (progressive) jpeg_simple_progression(&cinfo);
    jpeg_start_compress(&cinfo, TRUE);
    size_t stride = (size_t)width * 3;
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(rgb + (size_t)cinfo.next_scanline * stride);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    *jpeg = buffer;
    *jpeg_size = buffer_size;
    return 0;
}

void drht_jpeg_free(uint8_t *jpeg) { free(jpeg); }
