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

    private Matcher(Kind kind, String text) {
        this.kind = kind;
        this.text = text;
        this.template = kind == Kind.TEMPLATE ? Template.parse(text) : null;
        this.glob = kind == Kind.GLOB ? text.codePoints().toArray() : null;
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
                return globMatches(glob, value);
        }
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
