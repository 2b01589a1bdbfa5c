# `make demo` (tools/demo.py): seed 0 of the unlabelled regime's student
# alone, logit KD and CAKD (configs/benchmarks/fashion_mnist_unlabelled.py),
# with the benchmark's runner, evaluation and tables.
_base_ = './fashion_mnist_unlabelled.py'

seeds = [0]
out_dir = 'work_dirs/demo'
methods = dict(
    _delete_=True,
    alone={{_base_.methods.alone}},
    kd={{_base_.methods.kd}},
    cakd={{_base_.methods.cakd}})
