"""The .docx format: checking a file before parsing it (`safety`, `ole`), reading every
story in order (`reader`, `walk`, `content`), styles and page format (`styles`, `format`),
and writing .docx files (`writer`)."""
