package dev.autoscope.otel;

import java.util.ArrayList;
import java.util.List;

/**
 * A name template: literal text with {@code {name}} placeholders (one or more characters, no {@code
 * /}) and {@code {name:**}} placeholders (one or more characters, {@code /} included); {@code {{}
 * and {@code }}} are literal braces. The whole text must match.
 */
final class Template {
    private enum PieceKind {
        LITERAL,
        SEGMENT,
        REST
    }

    private record Piece(PieceKind kind, String text) {}

    private final Piece[] pieces;

    /**
     * Every segment placeholder is followed by the end or by literal text starting with {@code /},
     * and a rest placeholder can only be last: then a segment ends exactly at the next {@code /}
     * and one left-to-right scan decides a match (the common shape, {@code /orders/{id}/items}).
     */
    private final boolean slashDelimited;

    private Template(Piece[] pieces) {
        this.pieces = pieces;
        boolean delimited = true;
        for (int i = 0; i < pieces.length; i++) {
            if (pieces[i].kind == PieceKind.SEGMENT
                    && i + 1 < pieces.length
                    && (pieces[i + 1].kind != PieceKind.LITERAL
                            || !pieces[i + 1].text.startsWith("/"))) {
                delimited = false;
            } else if (pieces[i].kind == PieceKind.REST && i + 1 != pieces.length) {
                delimited = false;
            }
        }
        this.slashDelimited = delimited;
    }

    /** Parses a template; throws {@link IllegalArgumentException} saying what is wrong. */
    static Template parse(String text) {
        if (text.isEmpty()) {
            throw new IllegalArgumentException("empty template");
        }
        List<Piece> pieces = new ArrayList<>();
        StringBuilder literal = new StringBuilder();
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (c == '{' && i + 1 < text.length() && text.charAt(i + 1) == '{') {
                literal.append('{');
                i += 2;
            } else if (c == '}' && i + 1 < text.length() && text.charAt(i + 1) == '}') {
                literal.append('}');
                i += 2;
            } else if (c == '}') {
                throw new IllegalArgumentException(
                        "unmatched '}' at character " + i + " (write '}}' for a literal brace)");
            } else if (c == '{') {
                int close = text.indexOf('}', i + 1);
                if (close < 0) {
                    throw new IllegalArgumentException("unclosed '{' at character " + i);
                }
                String inner = text.substring(i + 1, close);
                boolean rest = inner.endsWith(":**");
                String name = rest ? inner.substring(0, inner.length() - 3) : inner;
                if (name.isEmpty() || !name.codePoints().allMatch(Template::isNameCharacter)) {
                    throw new IllegalArgumentException(
                            "invalid placeholder name \""
                                    + inner
                                    + "\" (letters, digits, '_', '-', '.')");
                }
                if (literal.length() > 0) {
                    pieces.add(new Piece(PieceKind.LITERAL, literal.toString()));
                    literal.setLength(0);
                } else if (!pieces.isEmpty()
                        && pieces.get(pieces.size() - 1).kind != PieceKind.LITERAL) {
                    throw new IllegalArgumentException(
                            "placeholders \""
                                    + pieces.get(pieces.size() - 1).text
                                    + "\" and \""
                                    + name
                                    + "\" are adjacent: their boundary is ambiguous");
                }
                pieces.add(new Piece(rest ? PieceKind.REST : PieceKind.SEGMENT, name));
                i = close + 1;
            } else {
                literal.append(c);
                i++;
            }
        }
        if (literal.length() > 0) {
            pieces.add(new Piece(PieceKind.LITERAL, literal.toString()));
        }
        return new Template(pieces.toArray(new Piece[0]));
    }

    /** Letters, digits (as Rust's {@code char::is_alphanumeric} has them), '_', '-', '.'. */
    private static boolean isNameCharacter(int c) {
        if (c == '_' || c == '-' || c == '.' || Character.isAlphabetic(c)) {
            return true;
        }
        int type = Character.getType(c);
        return type == Character.DECIMAL_DIGIT_NUMBER
                || type == Character.LETTER_NUMBER
                || type == Character.OTHER_NUMBER;
    }

    /**
     * The literal text every match starts with ("" when the template starts with a placeholder).
     */
    String literalPrefix() {
        return pieces.length > 0 && pieces[0].kind == PieceKind.LITERAL ? pieces[0].text : "";
    }

    boolean matches(String text) {
        return slashDelimited ? matchSlashDelimited(text, 0, 0) : matchFrom(0, text, 0);
    }

    /** {@link #matches} for a text known to start with the {@link #literalPrefix}. */
    boolean matchesAfterPrefix(String text) {
        if (pieces.length == 0 || pieces[0].kind != PieceKind.LITERAL) {
            return matches(text);
        }
        int at = pieces[0].text.length();
        return slashDelimited ? matchSlashDelimited(text, 1, at) : matchFrom(1, text, at);
    }

    /**
     * The scan of a {@link #slashDelimited} template: a segment takes everything up to the next
     * {@code /} (at least one character; '/' is no surrogate, so it never ends inside a pair), a
     * rest everything left.
     */
    private boolean matchSlashDelimited(String text, int first, int from) {
        int at = from;
        for (int i = first; i < pieces.length; i++) {
            Piece piece = pieces[i];
            switch (piece.kind) {
                case LITERAL:
                    if (!text.startsWith(piece.text, at)) {
                        return false;
                    }
                    at += piece.text.length();
                    break;
                case SEGMENT:
                    {
                        int end = text.indexOf('/', at);
                        if (end < 0) {
                            end = text.length();
                        }
                        if (end == at) {
                            return false;
                        }
                        at = end;
                        break;
                    }
                default:
                    return at < text.length();
            }
        }
        return at == text.length();
    }

    /** Whether pieces {@code [piece..]} match {@code text[at..]}, trying every split. */
    private boolean matchFrom(int piece, String text, int at) {
        if (piece == pieces.length) {
            return at == text.length();
        }
        Piece current = pieces[piece];
        switch (current.kind) {
            case LITERAL:
                return text.startsWith(current.text, at)
                        && matchFrom(piece + 1, text, at + current.text.length());
            case SEGMENT:
                {
                    int limit = text.indexOf('/', at);
                    if (limit < 0) {
                        limit = text.length();
                    }
                    // A placeholder takes whole characters: never end inside a surrogate pair.
                    for (int end = limit; end > at; end--) {
                        if (isInsidePair(text, end)) {
                            continue;
                        }
                        if (matchFrom(piece + 1, text, end)) {
                            return true;
                        }
                    }
                    return false;
                }
            default:
                for (int end = text.length(); end > at; end--) {
                    if (isInsidePair(text, end)) {
                        continue;
                    }
                    if (matchFrom(piece + 1, text, end)) {
                        return true;
                    }
                }
                return false;
        }
    }

    private static boolean isInsidePair(String text, int at) {
        return at > 0
                && at < text.length()
                && Character.isHighSurrogate(text.charAt(at - 1))
                && Character.isLowSurrogate(text.charAt(at));
    }
}
