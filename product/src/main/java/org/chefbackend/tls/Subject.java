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
        return withoutCommonName() + "/CN=" + escape(commonName);
    }

    /**
     * openssl's -subj form without a common name: a node's certificate names the node in subjectAltName alone, since
     * etcd 3.4's JSON gateway refuses every request whose client certificate has a common name once auth is on.
     */
    String withoutCommonName() {
        return "/C=" + escape(country) + "/O=" + escape(company) + "/OU=" + escape(unit);
    }

    /** openssl -subj separates fields with '/', so a value must escape it. */
    private static String escape(String value) {
        return value.replace("\\", "\\\\").replace("/", "\\/");
    }
}
