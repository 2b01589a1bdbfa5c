# CAKD's form in the unlabelled regime, chosen on the validation split only
# (evaluate_test=False: no test set is opened):
#
#     python tools/benchmarks/fashion_mnist.py \
#         configs/benchmarks/fashion_mnist_unlabelled_cakd_search.py
#
# The 10%-labels default (PCA + GL + the release's logit MSE, weight 1)
# reached 78.44% val on seed 0 of the benchmark, below the student alone
# (79.06) and logit KD (86.20): with 1.3 labelled images per batch the logit
# term carries nearly all the supervision, and MSE averaged over B * K
# logits at weight 1 is a weak one. The candidates strengthen that term
# (and, in one, weaken the CE as logit KD's recipe does); PCA and GL stay as
# they are. A third, the MSE at ten times its weight
# ({'model.projectors.logit.loss.loss_weight': 10.0}), diverged at
# iteration 12 (the NaN guard stopped it: loss inf) and is not a candidate.
_base_ = './fashion_mnist_unlabelled.py'

evaluate_test = False
seeds = [0]
out_dir = 'benchmarks/fashion_mnist_unlabelled_cakd_search'

_cakd = 'configs/cakd/vit-tiny_resnet-small_fashion-mnist-1pct.py'
_kl = {
    'model.projectors.logit.loss.form': 'kl',
    'model.projectors.logit.loss.temperature': 4.0,
    'model.projectors.logit.loss.loss_weight': 0.9,
}
methods = dict(
    _delete_=True,
    # Hinton's term at logit KD's published settings (T=4, weight 0.9),
    # in place of the MSE: CAKD's feature terms on top of logit KD.
    logit_kl=dict(
        config=_cakd,
        options=_kl,
        label='logit KL, T=4, weight 0.9'),
    # The same with logit KD's CE weight (1 - alpha = 0.1): exactly logit
    # KD's loss plus CAKD's PCA and GL terms.
    logit_kl_ce01=dict(
        config=_cakd,
        options=dict(_kl, **{'model.ce_weight': 0.1}),
        label='logit KL, T=4, weight 0.9, CE weight 0.1'),
)
