# Throughput against chunk size, one line per slot count. Called by bench/report.sh:
#   gnuplot -e "dat='DIR/sweep.dat'; out='DIR/sweep.svg'" bench/sweep.gp
set terminal svg size 800,480 dynamic font "sans,12"
set output out
set title "fwpush push, 64 MiB image, emulated BMC"
set xlabel "chunk (= slot) size, KiB"
set ylabel "GB/s"
set logscale x 2
set key outside right title "slots"
set grid
slots = "1 2 4 8 16"
plot for [i=0:4] dat index i using 1:3 with linespoints title word(slots, i + 1)
