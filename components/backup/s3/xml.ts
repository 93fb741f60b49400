/**
 * The little XML S3 answers with (ListBucketResult, Error): text of named elements, unescaped. S3's XML
 * has no CDATA, comments or attributes that matter here, and every "<" in text is escaped, so reading
 * <Name>text</Name> pairs is exact.
 */

/** XML's five named entities and numeric references (&#34; &#x9C;); an unknown entity is left as it is. */
export function xmlUnescape(text: string): string {
    return text.replace(/&(lt|gt|amp|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);/g, (entity, name: string) => {
        switch (name) {
            case "lt":
                return "<";
            case "gt":
                return ">";
            case "amp":
                return "&";
            case "quot":
                return '"';
            case "apos":
                return "'";
        }
        const codePoint = name.startsWith("#x") ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
        return codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : entity;
    });
}

/** The unescaped text of every <name> element in `xml`, in order. */
export function xmlTexts(xml: string, name: string): string[] {
    const found: string[] = [];
    const pattern = new RegExp(`<${name}>([^<]*)</${name}>`, "g");
    for (const m of xml.matchAll(pattern)) found.push(xmlUnescape(m[1]));
    return found;
}

/** The text of the first <name> element, or undefined. */
export function xmlText(xml: string, name: string): string | undefined {
    return xmlTexts(xml, name)[0];
}

/** The inner XML of every <name>...</name> block (e.g. each <Contents> of a listing). */
export function xmlBlocks(xml: string, name: string): string[] {
    return [...xml.matchAll(new RegExp(`<${name}>([\\s\\S]*?)</${name}>`, "g"))].map((m) => m[1]);
}
