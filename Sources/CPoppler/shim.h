#ifndef GATEWAY_CPOPPLER_SHIM_H
#define GATEWAY_CPOPPLER_SHIM_H
/* poppler's GLib interface: the PDF reader the gateway links (GPL-2.0-or-later; see README "Document extraction").
   The helpers below keep GLib's lists, GError and GObject reference counting on the C side, so Swift sees plain
   functions over opaque handles. */
#include <poppler.h>
#include <cairo.h>
#include <string.h>

/* Why a document did not open: 0 opened, 1 encrypted (a password is needed), 2 damaged or not a PDF. */
static inline PopplerDocument *gw_pdf_open(const void *bytes, size_t count, int *failure) {
    GBytes *data = g_bytes_new_static(bytes, count);
    GError *error = NULL;
    PopplerDocument *document = poppler_document_new_from_bytes(data, NULL, &error);
    g_bytes_unref(data);
    *failure = 0;
    if (document == NULL) {
        *failure = (error != NULL && error->domain == POPPLER_ERROR && error->code == POPPLER_ERROR_ENCRYPTED) ? 1 : 2;
    }
    if (error != NULL) g_error_free(error);
    return document;
}

static inline void gw_pdf_close(PopplerDocument *document) { g_object_unref(document); }

static inline int gw_pdf_page_count(PopplerDocument *document) { return poppler_document_get_n_pages(document); }

/* The text of one page (malloc'd by GLib; release with gw_free), or NULL. */
static inline char *gw_pdf_page_text(PopplerDocument *document, int index) {
    PopplerPage *page = poppler_document_get_page(document, index);
    if (page == NULL) return NULL;
    char *text = poppler_page_get_text(page);
    g_object_unref(page);
    return text;
}

/* The contents of every annotation on a page and the value of every form field, one per line (or NULL). */
static inline char *gw_pdf_page_annotations_and_fields(PopplerDocument *document, int index) {
    PopplerPage *page = poppler_document_get_page(document, index);
    if (page == NULL) return NULL;
    GString *out = g_string_new(NULL);
    GList *annotations = poppler_page_get_annot_mapping(page);
    for (GList *item = annotations; item != NULL; item = item->next) {
        PopplerAnnotMapping *mapping = item->data;
        gchar *contents = poppler_annot_get_contents(mapping->annot);
        if (contents != NULL) { g_string_append(out, contents); g_string_append_c(out, '\n'); g_free(contents); }
    }
    poppler_page_free_annot_mapping(annotations);
    GList *fields = poppler_page_get_form_field_mapping(page);
    for (GList *item = fields; item != NULL; item = item->next) {
        PopplerFormFieldMapping *mapping = item->data;
        PopplerFormField *field = mapping->field;
        gchar *name = poppler_form_field_get_partial_name(field);
        gchar *value = NULL;
        switch (poppler_form_field_get_field_type(field)) {
        case POPPLER_FORM_FIELD_TEXT: value = poppler_form_field_text_get_text(field); break;
        case POPPLER_FORM_FIELD_CHOICE: {
            int chosen = poppler_form_field_choice_get_n_items(field);
            for (int i = 0; i < chosen; i++) {
                if (poppler_form_field_choice_is_item_selected(field, i)) {
                    value = poppler_form_field_choice_get_item(field, i);
                    break;
                }
            }
            if (value == NULL) value = poppler_form_field_choice_get_text(field);
            break;
        }
        default: break;
        }
        if (name != NULL || value != NULL) {
            g_string_append_printf(out, "%s: %s\n", name ? name : "", value ? value : "");
        }
        g_free(name);
        g_free(value);
    }
    poppler_page_free_form_field_mapping(fields);
    g_object_unref(page);
    return g_string_free(out, FALSE);
}

/* Title, author, subject, keywords, creator, producer and the XMP metadata packet, one per line. */
static inline char *gw_pdf_metadata(PopplerDocument *document) {
    GString *out = g_string_new(NULL);
    gchar *values[7] = {
        poppler_document_get_title(document), poppler_document_get_author(document),
        poppler_document_get_subject(document), poppler_document_get_keywords(document),
        poppler_document_get_creator(document), poppler_document_get_producer(document),
        poppler_document_get_metadata(document),
    };
    for (int i = 0; i < 7; i++) {
        if (values[i] != NULL) { g_string_append(out, values[i]); g_string_append_c(out, '\n'); g_free(values[i]); }
    }
    return g_string_free(out, FALSE);
}

static inline void gw_free(void *pointer) { g_free(pointer); }

/* The number of images on a page drawn at least `min_width` × `min_height` points: images smaller than that
   cannot hold a legible line of text. */
static inline int gw_pdf_page_image_count(PopplerDocument *document, int index, double min_width, double min_height) {
    PopplerPage *page = poppler_document_get_page(document, index);
    if (page == NULL) return 0;
    int count = 0;
    GList *images = poppler_page_get_image_mapping(page);
    for (GList *item = images; item != NULL; item = item->next) {
        PopplerImageMapping *mapping = item->data;
        double width = mapping->area.x2 - mapping->area.x1, height = mapping->area.y2 - mapping->area.y1;
        if (width < 0) width = -width;
        if (height < 0) height = -height;
        if (width >= min_width && height >= min_height) count++;
    }
    poppler_page_free_image_mapping(images);
    g_object_unref(page);
    return count;
}

typedef struct { unsigned char *bytes; size_t count; size_t capacity; } gw_png_buffer;

static cairo_status_t gw_png_append(void *closure, const unsigned char *data, unsigned int length) {
    gw_png_buffer *buffer = closure;
    if (buffer->count + length > buffer->capacity) {
        size_t capacity = (buffer->capacity + length) * 2;
        unsigned char *grown = g_realloc(buffer->bytes, capacity);
        buffer->bytes = grown;
        buffer->capacity = capacity;
    }
    memcpy(buffer->bytes + buffer->count, data, length);
    buffer->count += length;
    return CAIRO_STATUS_SUCCESS;
}

/* Renders a page at `dpi` into a PNG (for OCR); NULL when the page is larger than `max_pixels` or rendering fails.
   Release with gw_free. */
static inline unsigned char *gw_pdf_page_png(PopplerDocument *document, int index, double dpi, long max_pixels,
                                             size_t *count) {
    *count = 0;
    PopplerPage *page = poppler_document_get_page(document, index);
    if (page == NULL) return NULL;
    double width = 0, height = 0;
    poppler_page_get_size(page, &width, &height);
    double scale = dpi / 72.0;
    long pixels_wide = (long)(width * scale), pixels_high = (long)(height * scale);
    if (pixels_wide <= 0 || pixels_high <= 0 || pixels_wide * pixels_high > max_pixels) { g_object_unref(page); return NULL; }
    cairo_surface_t *surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)pixels_wide, (int)pixels_high);
    cairo_t *cr = cairo_create(surface);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_scale(cr, scale, scale);
    poppler_page_render(page, cr);
    cairo_destroy(cr);
    gw_png_buffer buffer = { NULL, 0, 0 };
    cairo_status_t status = cairo_surface_write_to_png_stream(surface, gw_png_append, &buffer);
    cairo_surface_destroy(surface);
    g_object_unref(page);
    if (status != CAIRO_STATUS_SUCCESS) { g_free(buffer.bytes); return NULL; }
    *count = buffer.count;
    return buffer.bytes;
}

#endif
