/*
 * jsonesc.h - the one JSON string escaper, shared by the API probes (fbc.h)
 * and the runner, so a probe's line and the runner's record of it are
 * escaped the same way.
 *
 * Every byte >= 0x80 becomes \u00XX: probe output is not guaranteed to be
 * UTF-8, and mapping bytes to code points U+0000..U+00FF keeps the record
 * lossless and always valid JSON.
 */
#ifndef FBC_JSONESC_H
#define FBC_JSONESC_H

#include <stddef.h>
#include <string.h>

/* The most one input byte can grow to ("\u00XX"). */
#define FBC_JSON_MAX_GROWTH 6

/*
 * Escape n bytes of src into dst (cap bytes including the NUL) and return the
 * length written. Output stops before an escape that would not fit, so a
 * truncated result is still a valid JSON string body.
 */
static inline size_t fbc_json_escape(char *dst, size_t cap, const void *src, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = src;
	size_t o = 0;

	if (cap == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		size_t need = (c == '"' || c == '\\') ? 2 : (c < 0x20 || c >= 0x7f) ? 6 : 1;

		if (o + need >= cap)
			break;
		if (need == 2) {
			dst[o++] = '\\';
			dst[o++] = (char)c;
		} else if (need == 6) {
			memcpy(dst + o, "\\u00", 4);
			dst[o + 4] = hex[c >> 4];
			dst[o + 5] = hex[c & 15];
			o += 6;
		} else {
			dst[o++] = (char)c;
		}
	}
	dst[o] = '\0';
	return o;
}

#endif
