package org.chefbackend.tls;

import org.chefbackend.config.Settings;

/**
 * The subject fields of the certificates chef-backend makes, from the documents' ssl.country_name,
 * ssl.company_name and ssl.organizational_unit_name.
 */
public record Subject(String country, String company, String unit) {
    public static Subject of(Settings s) {
        return new Subject(s.string("ssl.country_name"), s.string("ssl.company_name"),
                s.string("ssl.organizational_unit_name"));
    }

    /** openssl's -subj form with {@code commonName}. */
    String withCommonName(String commonName) {
        return "/C=" + escape(country) + "/O=" + escape(company) + "/OU=" + escape(unit) + "/CN=" + escape(commonName);
    }

    /** openssl -subj separates fields with '/', so a value must escape it. */
    private static String escape(String value) {
        return value.replace("\\", "\\\\").replace("/", "\\/");
    }
}
