package org.chefbackend.config;

/**
 * What an error message quotes from untrusted text (an operator's file, a request's path): always one line, however
 * hostile the text (control and line-separator characters written as Ruby escapes), and short however long it is
 * (cut, with "...").
 */
public final class Excerpt {
    /** Most characters a message quotes from one name or value. */
    public static final int MAX = 60;

    private Excerpt() {
    }

    public static String of(String text) {
        return of(text, MAX);
    }

    /** {@code text} escaped; when that is longer than {@code max}, as much of it as fits before "...". */
    public static String of(String text, int max) {
        String whole = prefix(text, max);
        return whole.length() == escapedLength(text, max + 1) ? whole : prefix(text, max - 3) + "...";
    }

    /** {@code 'text'} as an excerpt. */
    public static String quoted(String text) {
        return "'" + of(text) + "'";
    }

    /** The longest escaped prefix of {@code text} within {@code limit} characters, never half an escape. */
    private static String prefix(String text, int limit) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            String piece = Ruby.escape(cp);
            if (sb.length() + piece.length() > limit) {
                break;
            }
            sb.append(piece);
            i += Character.charCount(cp);
        }
        return sb.toString();
    }

    /** The length of {@code text} escaped, counted up to {@code limit} only (a huge text costs no more). */
    private static int escapedLength(String text, int limit) {
        int length = 0;
        for (int i = 0; i < text.length() && length < limit; ) {
            int cp = text.codePointAt(i);
            length += Ruby.escape(cp).length();
            i += Character.charCount(cp);
        }
        return length;
    }
}
