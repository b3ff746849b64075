"""Readers for the formats ``hrkg import`` takes that need more than a table: ``untc`` reads the
UN Treaty Collection "Status of Treaties" page (participant grid, footnotes, declarations,
reservations, objections, competence declarations). The writing of RDF stays in hrkg.importer."""
