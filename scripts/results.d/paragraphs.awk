# Raw text to one training line each: paragraphs (blank-line separated) joined, then cut into lines
# of at most MAXW words, ending at a sentence end (. ! ? and closing quotes) past MINW words where
# one exists. Used by scripts/results for the masked-LM pretraining corpus.
BEGIN { RS = ""; FS = "[ \t\n\r]+"; if (!MAXW) MAXW = 80; if (!MINW) MINW = 12 }
{
  buf_n = 0
  for (i = 1; i <= NF; i++) {
    if ($i == "") continue
    words[++buf_n] = $i
    if ($i ~ /[.!?]["')]*$/) ends[buf_n] = 1; else ends[buf_n] = 0
    if (buf_n >= MAXW) { emit(); }
  }
  emit_all()
}
function emit(   k, cut, s) {
  cut = 0
  for (k = buf_n; k >= MINW; k--) if (ends[k]) { cut = k; break }
  if (!cut) cut = buf_n
  s = words[1]; for (k = 2; k <= cut; k++) s = s " " words[k]
  print s
  for (k = cut + 1; k <= buf_n; k++) { words[k - cut] = words[k]; ends[k - cut] = ends[k] }
  buf_n -= cut
}
function emit_all(   k, s) {
  if (buf_n >= 3) { s = words[1]; for (k = 2; k <= buf_n; k++) s = s " " words[k]; print s }
  buf_n = 0
}
