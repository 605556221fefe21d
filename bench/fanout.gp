# Pushing one image to many emulated BMCs at once: aggregate GB/s and the host's CPU seconds per
# target against the number of targets. Called by bench/report.sh:
#   gnuplot -e "dat='DIR/fanout.dat'; out='DIR/fanout.svg'" bench/fanout.gp
set terminal svg size 800,480 dynamic font "sans,12"
set output out
set title "fwpush push to N targets at once, 64 MiB image, emulated BMCs"
set xlabel "targets"
set ylabel "aggregate GB/s"
set y2label "host CPU ms per target"
set logscale x 2
set ytics nomirror
set y2tics
set key top left
set grid
plot dat using 1:2 with linespoints title "aggregate GB/s" axes x1y1, \
     dat using 1:($3 * 1000) with linespoints title "CPU ms per target" axes x1y2
