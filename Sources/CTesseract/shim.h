#ifndef GATEWAY_CTESSERACT_SHIM_H
#define GATEWAY_CTESSERACT_SHIM_H
/* Tesseract's C API (Apache-2.0) and Leptonica's image decoding, for OCR of uploaded images. */
#include <tesseract/capi.h>
#include <leptonica/allheaders.h>
#include <stdlib.h>

/* Reads an image's size from its header without decoding it: 0 on success. */
static inline int gw_image_size(const unsigned char *bytes, size_t count, int *width, int *height) {
    l_int32 w = 0, h = 0, bps = 0, spp = 0, format = 0, iscmap = 0;
    if (pixReadHeaderMem(bytes, count, &format, &w, &h, &bps, &spp, &iscmap) != 0) return 1;
    *width = w; *height = h;
    return 0;
}

/* A Tesseract engine with its language data loaded (the costly part), or NULL when the data is missing. One engine
   serves one image at a time; the caller pools them. */
static inline TessBaseAPI *gw_ocr_engine(const char *datapath, const char *language) {
    TessBaseAPI *api = TessBaseAPICreate();
    if (TessBaseAPIInit3(api, datapath, language) != 0) { TessBaseAPIDelete(api); return NULL; }
    return api;
}

static inline void gw_ocr_engine_free(TessBaseAPI *api) { TessBaseAPIEnd(api); TessBaseAPIDelete(api); }

/* Recognises the text of an image (PNG, JPEG, GIF, TIFF, WebP, BMP) with an engine from gw_ocr_engine. Returns
   malloc'd UTF-8 (release with gw_ocr_free) or NULL: *failure is 1 when the image does not decode, 3 when
   recognition passed `deadline_ms` (Tesseract's own monitor). The engine is cleared for the next image. */
static inline char *gw_ocr(TessBaseAPI *api, const unsigned char *bytes, size_t count, int deadline_ms, int *failure) {
    *failure = 0;
    PIX *image = pixReadMem(bytes, count);
    if (image == NULL) { *failure = 1; return NULL; }
    TessBaseAPISetImage2(api, image);
    ETEXT_DESC *monitor = TessMonitorCreate();
    TessMonitorSetDeadlineMSecs(monitor, deadline_ms);
    int recognized = TessBaseAPIRecognize(api, monitor);
    TessMonitorDelete(monitor);
    char *text = recognized == 0 ? TessBaseAPIGetUTF8Text(api) : NULL;
    if (recognized != 0) *failure = 3;
    TessBaseAPIClear(api);
    pixDestroy(&image);
    return text;
}

static inline void gw_ocr_free(char *text) { TessDeleteText(text); }

/* Leptonica writes every decoding problem to stderr; the gateway reports them itself. */
static inline void gw_image_quiet(void) { setMsgSeverity(L_SEVERITY_NONE); }

#endif
