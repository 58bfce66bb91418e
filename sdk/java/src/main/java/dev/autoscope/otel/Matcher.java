package dev.autoscope.otel;

/** How a rule names spans (and how an attribute condition matches a value's text). */
final class Matcher {
    /** Matcher kinds in precedence order: a smaller ordinal wins. */
    enum Kind {
        EXACT("exact"),
        TEMPLATE("template"),
        PREFIX("prefix"),
        GLOB("glob");

        final String jsonName;

        Kind(String jsonName) {
            this.jsonName = jsonName;
        }
    }

    final Kind kind;
    final String text;
    private final Template template;
    private final int[] glob;

    /**
     * A glob without {@code ?}: its literal pieces between stars, matched by prefix, suffix and
     * substring searches instead of the backtracking matcher; {@code null} otherwise, and for
     * patterns with surrogates (whose pieces a UTF-16 search could find inside a code point the
     * backtracking matcher sees whole).
     */
    private final String[] starPieces;

    private Matcher(Kind kind, String text) {
        this.kind = kind;
        this.text = text;
        this.template = kind == Kind.TEMPLATE ? Template.parse(text) : null;
        this.glob = kind == Kind.GLOB ? text.codePoints().toArray() : null;
        this.starPieces =
                kind == Kind.GLOB
                                && text.indexOf('?') < 0
                                && text.chars().noneMatch(c -> Character.isSurrogate((char) c))
                        ? text.split("\\*", -1)
                        : null;
    }

    /** A matcher; throws {@link IllegalArgumentException} for an invalid template. */
    static Matcher of(Kind kind, String text) {
        return new Matcher(kind, text);
    }

    /** Text that every name this matcher matches starts with. */
    String literalPrefix() {
        switch (kind) {
            case TEMPLATE:
                return template.literalPrefix();
            case GLOB:
                {
                    int end = 0;
                    while (end < text.length()
                            && text.charAt(end) != '*'
                            && text.charAt(end) != '?') {
                        end++;
                    }
                    return text.substring(0, end);
                }
            default:
                return text;
        }
    }

    /** Text that every name this glob matches ends with: its text after its last wildcard. */
    String literalSuffix() {
        int start = text.length();
        while (start > 0 && text.charAt(start - 1) != '*' && text.charAt(start - 1) != '?') {
            start--;
        }
        return text.substring(start);
    }

    /**
     * {@link #matches} for a value known to start with the {@link #literalPrefix} (the literal
     * index found it there): a prefix matches, a template is matched after it.
     */
    boolean matchesKnowingPrefix(String value) {
        switch (kind) {
            case PREFIX:
                return true;
            case TEMPLATE:
                return template.matchesAfterPrefix(value);
            default:
                return matches(value);
        }
    }

    boolean matches(String value) {
        switch (kind) {
            case EXACT:
                return value.equals(text);
            case PREFIX:
                return value.startsWith(text);
            case TEMPLATE:
                return template.matches(value);
            default:
                return starPieces != null
                        ? starPiecesMatch(starPieces, value)
                        : globMatches(glob, value);
        }
    }

    /**
     * The first piece a prefix, the last a suffix not overlapping it, the middle ones in order,
     * each where it first occurs: the leftmost placement never loses a match.
     */
    static boolean starPiecesMatch(String[] pieces, String value) {
        if (pieces.length == 1) {
            return value.equals(pieces[0]);
        }
        String first = pieces[0];
        String last = pieces[pieces.length - 1];
        if (value.length() < first.length() + last.length()
                || !value.startsWith(first)
                || !value.endsWith(last)) {
            return false;
        }
        int from = first.length();
        int end = value.length() - last.length();
        for (int i = 1; i < pieces.length - 1; i++) {
            int at = value.indexOf(pieces[i], from);
            if (at < 0 || at + pieces[i].length() > end) {
                return false;
            }
            from = at + pieces[i].length();
        }
        return true;
    }

    /**
     * {@code *} any run of characters, {@code ?} one character, anything else itself; whole text.
     * Characters are code points. Greedy with one backtrack point, which suffices for these two
     * wildcards.
     */
    static boolean globMatches(int[] pattern, String value) {
        int p = 0;
        int v = 0;
        int starPattern = -1;
        int starValue = 0;
        while (v < value.length()) {
            int c = value.codePointAt(v);
            if (p < pattern.length
                    && (pattern[p] == '?' || (pattern[p] != '*' && pattern[p] == c))) {
                p++;
                v += Character.charCount(c);
            } else if (p < pattern.length && pattern[p] == '*') {
                starPattern = p++;
                starValue = v;
            } else if (starPattern >= 0) {
                p = starPattern + 1;
                starValue += Character.charCount(value.codePointAt(starValue));
                v = starValue;
            } else {
                return false;
            }
        }
        while (p < pattern.length && pattern[p] == '*') {
            p++;
        }
        return p == pattern.length;
    }
}
